"""RIDE's classifier (Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021;
frank-xwang/RIDE-LongTailRecognition, MIT): mmpretrain's ``ImageClassifier`` with the two parts of RIDE that span
backbone and head.

Routed inference (stage 2, ``EAResNet.py``): with a ``MultiExpertClsHead`` router, each test sample runs the shared
stages and expert 0; after expert ``k`` the router decides per sample whether to consult expert ``k + 1``, and expert
``k + 1``'s stages run only on the samples still routed (the batch is indexed, the expert's layers run on the
subset, its logits are added back at those rows). The predictions are those of computing every expert and then
applying the router (``MultiExpertClsHead.route``); only the compute differs. The official code does the same
per-sample early exit (its test adds experts while the router says so).

Distillation (``RIDELossWithDistill``, ``trainer/trainer.py``): a frozen teacher, a RIDE model with more experts
(6 in every official run), built from its config and checkpoint; on every training batch its prediction (the
mean of its expert logits) is handed to the head's ``RIDEDistillLoss`` as ``teacher_score``.
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.models.necks import GlobalAveragePooling
from mmpretrain.structures import DataSample
from torch import nn

from ...core.registry import register_into
from .frozen_model import FrozenModelHolder, build_teacher

TEACHER_KEYS = ('config', 'checkpoint', 'train_mode')


@register_into('MODELS', scopes=('mmpretrain',))
class RIDEClassifier(FrozenModelHolder, ImageClassifier):
    """An ``ImageClassifier`` for RIDE's multi-expert models: routed inference that computes only the experts a
    sample uses, and distillation from a teacher (module docstring).

    Routed inference applies when the head is a ``MultiExpertClsHead`` with a router, the backbone a multi-expert
    one (``RIDEResNet``, ``RIDEResNeXt``, ``ResNet32CIFAR``: ``forward_shared`` / ``forward_expert``) and the neck
    per-channel global average pooling (or none), so that pooling one expert's feature map gives that expert's part
    of the pooled vector. In ``predict`` only; ``mode='tensor'`` and training compute every expert.

    Teacher (``teacher=dict(config=..., checkpoint=..., train_mode=True)``):
        - ``config``: the teacher's config file (its ``model``), or a model config dict.
        - ``checkpoint``: the trained teacher's weights; a missing file is an error naming it.
        - ``train_mode``: run the teacher in training mode. Default True, as the official trainer, which never
          calls ``eval()`` on the teacher: its BatchNorm layers normalise with the statistics of each batch (the
          student's augmented batch, per GPU under DDP; the official ``DataParallel`` teacher uses each GPU's
          share too) and keep updating running statistics that never influence its outputs. False runs it in eval
          mode (running statistics from its checkpoint).
        The teacher runs under ``no_grad`` on the same preprocessed inputs as the student. It is deliberately not a
        registered submodule: its parameters are neither in ``parameters()`` (so not in the optimizer, nor in DDP's
        gradient sync) nor in the student's checkpoints; it follows the model's ``.to()`` / ``.cuda()``. A resumed
        run rebuilds it from ``checkpoint``, with the same outputs for the same batch (in training mode its outputs
        depend only on its weights and the batch). Testing a distilled student does not need the teacher:
        ``--cfg-options model.teacher=None``.

    Args:
        backbone, neck, head, pretrained, train_cfg, data_preprocessor, init_cfg: as ``ImageClassifier``.
        teacher: the teacher settings above, or None (no distillation). With a teacher the head's loss must take
            ``teacher_score`` (``RIDEDistillLoss``).
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 teacher: Optional[dict] = None, **kwargs) -> None:
        super().__init__(backbone, neck=neck, head=head, **kwargs)
        object.__setattr__(self, 'teacher', None)  # kept out of the module tree (class docstring)
        self.teacher_train_mode = True
        if teacher is not None:
            unknown = set(teacher) - set(TEACHER_KEYS)
            if unknown or 'config' not in teacher or 'checkpoint' not in teacher:
                raise ValueError(f'RIDEClassifier: teacher must be dict(config=..., checkpoint=..., train_mode=True), '
                                 f'got keys {sorted(teacher)}')
            if not getattr(getattr(self.head, 'loss_module', None), 'uses_teacher', False):
                raise TypeError('RIDEClassifier with a teacher needs a head loss that takes teacher_score (e.g. '
                                f'RIDEDistillLoss), got {type(getattr(self.head, "loss_module", None)).__name__}')
            self.teacher_train_mode = bool(teacher.get('train_mode', True))
            object.__setattr__(self, 'teacher', build_teacher(teacher['config'], teacher['checkpoint'], 'RIDE teacher'))

    def frozen_models(self) -> List[nn.Module]:
        return [] if self.teacher is None else [self.teacher]

    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's prediction logits (N, C) on the preprocessed ``inputs``, without gradient."""
        self.teacher.train(self.teacher_train_mode)
        with torch.no_grad():
            return self.teacher(inputs, mode='tensor')

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        feats = self.extract_feat(inputs)
        if self.teacher is None:
            return self.head.loss(feats, data_samples)
        return self.head.loss(feats, data_samples, teacher_score=self.teacher_logits(inputs))

    @property
    def routes_experts(self) -> bool:
        """Whether ``predict`` computes only the experts each sample uses (class docstring)."""
        return (getattr(self.head, 'router', None) is not None and hasattr(self.backbone, 'forward_expert')
                and (not self.with_neck or isinstance(self.neck, GlobalAveragePooling)))

    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Predictions, each recording ``num_experts``; with routing, only the experts a sample uses run."""
        if not self.routes_experts:
            return super().predict(inputs, data_samples, **kwargs)
        shared = self.backbone.forward_shared(inputs)

        def expert_features(k: int, index: torch.Tensor) -> torch.Tensor:
            feats = (self.backbone.forward_expert(shared if index.numel() == shared.size(0) else shared[index], k), )
            return self.head.pre_logits(self.neck(feats) if self.with_neck else feats)

        logits, used = self.head.route_computing_used_experts(expert_features, inputs.size(0))
        return self.head.routed_predictions(logits, used, data_samples)
