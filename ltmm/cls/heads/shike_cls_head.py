"""SHIKE's head: the experts' cosine classifiers of stage 1 and the re-trained classifiers of stage 2 (Jin et al.,
"Long-Tailed Visual Recognition via Self-Heterogeneous Integration with Knowledge Excavation", CVPR 2023; official
code jinyan-06/SHIKE ``networks.py`` ``ResNet_MoE`` and ``cifarTrain.py``, no licence file, read at commit 2b04b62d to
check facts; re-implemented, nothing copied)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes
from .cosine_cls_head import init_unit_rows_
from .multi_expert_cls_head import MultiExpertClsHead


@register_into('MODELS', scopes=('mmpretrain',))
class SHIKEClsHead(MultiExpertClsHead):
    """SHIKE's two classifier sets over the ``K`` fused expert features of ``SHIKEResNet32``.

    - Stage 1 (epochs before ``retrain_epoch``): ``classifiers``, one cosine classifier x ``scale`` per expert
      (``NormedLinear`` x 30), trained with ``loss`` (``SHIKELoss``, DKT) on the (N, K, C) expert logits.
    - Stage 2 (from ``retrain_epoch``, the official ``cornerstone`` 180 of 200): ``rt_classifiers``, a second, fresh
      set of the same classifiers, trained with ``retrain_loss`` applied to each expert's logits and summed over the
      experts (official: ``sum_k CE(z_k + log n, y)``, ``BalancedSoftmaxLoss``). Everything else is frozen by
      ``DecoupledStageHook(start_epoch=retrain_epoch, frozen_modules=('backbone', 'neck', 'head.classifiers'),
      bn_mode='train')``; the official run keeps the model in ``train()``, so the BatchNorm statistics of the frozen
      backbone keep updating (``bn_mode='train'``).

    The prediction (test time and training accuracy) is the mean of the experts' logits from the classifiers of the
    current stage. The stage is set by ``set_epoch`` (``LossEpochHook``) and kept in the checkpoint (the persistent
    buffer ``retraining``), so a resumed run and ``tools/test.py`` of a stage-2 checkpoint use ``rt_classifiers``.

    Args:
        num_classes: ``C``.
        in_channels: feature dimension of one expert. Default 64 (ResNet-32's last stage).
        loss: the stage-1 multi-expert loss, e.g. ``dict(type='SHIKELoss', class_stats=...)``.
        retrain_loss: the stage-2 loss of one expert's (N, C) logits, e.g. ``dict(type='BalancedSoftmaxLoss',
            class_stats=...)``.
        retrain_epoch: first (0-indexed) epoch of stage 2. Default 180 (official ``--cornerstone``).
        num_experts: ``K``. Default 3 (official ``--num_exps``).
        scale: the cosine logits' scale. Default 30.0 (official ``self.s = 30``).
        init_cfg: mmengine init config; None keeps the ``NormedLinear`` initialisation of both classifier sets.
        **kwargs: ``topk``, ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, loss: dict, retrain_loss: dict, in_channels: int = 64,
                 retrain_epoch: int = 180, num_experts: int = 3, scale: float = 30.0,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        if 'router' in kwargs or 'fusion' in kwargs:
            raise ValueError('SHIKEClsHead predicts with the mean of its experts; it takes no router or fusion')
        super().__init__(num_classes, in_channels, loss, num_experts=num_experts, scale=scale, init_cfg=init_cfg,
                         **kwargs)
        if int(retrain_epoch) != retrain_epoch or retrain_epoch < 0:
            raise ValueError(f'SHIKEClsHead: retrain_epoch must be an integer >= 0, got {retrain_epoch}')
        self.retrain_epoch = int(retrain_epoch)
        retrain_loss = fill_loss_num_classes(dict(loss=retrain_loss), num_classes, type(self).__name__)['loss']
        self.retrain_loss = MODELS.build(retrain_loss)
        if getattr(self.retrain_loss, 'multi_expert', False):
            raise TypeError(f'SHIKEClsHead: retrain_loss takes one expert\'s (N, C) logits, got the multi-expert '
                            f'{type(self.retrain_loss).__name__}')
        self.rt_classifiers = nn.ModuleList(nn.Linear(in_channels, num_classes, bias=False)
                                            for _ in range(num_experts))
        for fc in self.rt_classifiers:
            init_unit_rows_(fc.weight)
        self.register_buffer('retraining', torch.tensor(False))

    def set_epoch(self, epoch: int) -> None:
        """Select the classifiers of the stage ``epoch`` (0-indexed) belongs to (``LossEpochHook``)."""
        self.retraining.fill_(epoch >= self.retrain_epoch)

    @property
    def active_classifiers(self) -> nn.ModuleList:
        """``rt_classifiers`` in stage 2, ``classifiers`` before."""
        return self.rt_classifiers if bool(self.retraining) else self.classifiers

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        """Stage 1: ``loss`` on the (N, K, C) expert logits; stage 2: ``sum_k retrain_loss(z_k, y)``."""
        if not bool(self.retraining):
            return super().loss(feats, data_samples, **kwargs)
        if 'gt_score' in data_samples[0]:
            raise ValueError('SHIKEClsHead needs hard labels; batch augmentations that produce soft targets (mixup / '
                             'cutmix gt_score) are not part of SHIKE')
        target = torch.cat([sample.gt_label for sample in data_samples])
        expert_logits = self.forward_experts(feats)
        loss = sum(self.retrain_loss(expert_logits[:, k], target) for k in range(self.num_experts))
        losses = {'loss': loss}
        if self.cal_acc:
            acc = Accuracy.calculate(expert_logits.mean(dim=1), target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
