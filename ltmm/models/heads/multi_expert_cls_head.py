"""Multi-expert classifier head (RIDE)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...registry import register_into
from .cosine_cls_head import cosine_logits, init_unit_rows_


@register_into('MODELS', scopes=('mmpretrain',))
class MultiExpertClsHead(ClsHead):
    """``K`` experts over a shared feature, each a private block followed by a cosine classifier scaled by ``s``;
    the prediction is the mean of the expert logits (Wang et al., "Long-tailed Recognition by Routing Diverse
    Distribution-Aware Experts" (RIDE), ICLR 2021; frank-xwang/RIDE-LongTailRecognition).

    **Simplification.** RIDE shares the early backbone stages and gives each expert its own later stages (ImageNet
    ResNets: ``layer3`` + ``layer4`` per expert; CIFAR ResNet-32: ``layer2`` + ``layer3``). Here the whole backbone
    is shared and each expert owns ``Linear(in_channels, expert_channels) + BatchNorm1d + ReLU`` on the pooled
    feature (or nothing, with ``expert_channels=None``), so any mmpretrain backbone works unchanged. RIDE's second
    stage (the expert-assignment router, which stops adding experts per sample) is not implemented: all ``K``
    experts are always evaluated.

    ``loss`` receives the stacked expert logits, shape (N, K, C) (a multi-expert loss such as ``RIDELoss``, whose
    ``multi_expert`` attribute is True); training accuracy (``cal_acc``) and predictions use the mean over experts.

    Args:
        num_classes: number of classes ``C``.
        in_channels: dimension of the shared feature.
        loss: config of a multi-expert loss, e.g. ``dict(type='RIDELoss', class_stats=...)``.
        num_experts: ``K``. Default 3 (RIDE's default).
        expert_channels: width of each expert's private block; None for no private block. Default None.
        scale: ``s`` multiplying each expert's cosine logits. Default 30.0 (RIDE's ``NormedLinear`` x 30).
        init_cfg: mmengine init config. None keeps PyTorch's default for the private blocks and LDAM-DRW's
            ``NormedLinear`` initialisation for the classifiers.
        **kwargs: ``topk``, ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, loss: dict, num_experts: int = 3,
                 expert_channels: Optional[int] = None, scale: float = 30.0, init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if not getattr(self.loss_module, 'multi_expert', False):
            raise TypeError(f'MultiExpertClsHead needs a multi-expert loss taking (N, K, C) logits (e.g. RIDELoss), '
                            f'got {type(self.loss_module).__name__}')
        if num_classes <= 0 or num_experts <= 0:
            raise ValueError(f'num_classes ({num_classes}) and num_experts ({num_experts}) must be positive')
        if scale <= 0:
            raise ValueError(f'scale must be positive, got {scale}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_experts = num_experts
        self.scale = float(scale)
        width = in_channels if expert_channels is None else expert_channels
        self.experts = nn.ModuleList(
            nn.Identity() if expert_channels is None else
            nn.Sequential(nn.Linear(in_channels, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True))
            for _ in range(num_experts))
        self.classifiers = nn.ModuleList(nn.Linear(width, num_classes, bias=False) for _ in range(num_experts))
        for fc in self.classifiers:
            init_unit_rows_(fc.weight)

    def forward_experts(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Logits of every expert, shape (N, K, C)."""
        x = self.pre_logits(feats)
        return torch.stack([cosine_logits(expert(x), fc.weight, self.scale)
                            for expert, fc in zip(self.experts, self.classifiers)], dim=1)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Mean of the expert logits, shape (N, C)."""
        return self.forward_experts(feats).mean(dim=1)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        if 'gt_score' in data_samples[0]:
            raise ValueError('MultiExpertClsHead needs hard labels; batch augmentations that produce soft targets '
                             '(mixup / cutmix gt_score) are not supported by its losses')
        expert_logits = self.forward_experts(feats)
        target = torch.cat([sample.gt_label for sample in data_samples])
        losses = {'loss': self.loss_module(expert_logits, target, avg_factor=expert_logits.size(0), **kwargs)}
        if self.cal_acc:
            acc = Accuracy.calculate(expert_logits.mean(dim=1), target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
