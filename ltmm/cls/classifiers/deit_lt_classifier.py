"""DeiT-LT's classifier (Rangwani et al., "DeiT-LT: Distillation Strikes Back for Vision Transformer Training on
Long-Tailed Datasets", CVPR 2024; val-iisc/DeiT-LT, MIT / Apache-2.0): a distilled ViT student (mmpretrain's
``DistilledVisionTransformer`` + :class:`~ltmm.cls.heads.DeiTLTClsHead`) and a frozen CNN teacher in eval mode that
sees exactly the student's augmented (mixup / cutmix) batch: the out-of-distribution distillation of the paper."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import nn

from ...core.registry import register_into
from .frozen_model import FrozenModelHolder, build_teacher

TEACHER_KEYS = ('config', 'checkpoint', 'input_size')


@register_into('MODELS', scopes=('mmpretrain',))
class DeiTLTClassifier(FrozenModelHolder, ImageClassifier):
    """``ImageClassifier`` whose training step runs a frozen teacher on the same preprocessed (and batch-augmented)
    inputs and hands its logits to the head's loss (``DeiTLTLoss``) as ``teacher_score``.

    Teacher (``teacher=dict(config=..., checkpoint=..., input_size=None)``):
        - ``config``: the teacher's config file (its ``model``) or a model config dict. The paper's "flat" teacher
          is a CNN trained with SAM (PaCo + SAM in the official runs, trained outside the official repo): in ltmm
          that is any classifier config trained first, e.g. a CC-SAM or PaCo config. Its logits are its head on
          its extracted features (an ``ImageClassifier``'s ``'tensor'`` output; for a contrastive classifier such as
          PaCo's ``QueueContrastClassifier``, its linear classifier on the pooled feature, as the official wrapper
          of its PaCo teacher reads it).
        - ``checkpoint``: its trained weights (every weight must match); a missing file is a FileNotFoundError
          naming it.
        - ``input_size``: ``(H, W)`` the teacher's input is resized to (bicubic), or None for the student's size.
          The official CIFAR runs resize the 224-pixel student batch to 32 for the ResNet-32 teacher
          (``engine.py``); the ImageNet-LT / iNat18 teacher sees 224.

    The teacher runs in ``eval()`` mode under ``no_grad`` (official), its parameters have ``requires_grad=False``,
    and it is kept out of the module tree (not in the optimizer, the checkpoint, nor the DDP wrapper); ``.to()``
    moves it. Testing needs no teacher: ``--cfg-options model.teacher=None``.

    Args:
        teacher: the settings above, or None (no distillation: the head's loss must not need one).
        other arguments: ``ImageClassifier``'s.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 teacher: Optional[dict] = None, **kwargs) -> None:
        super().__init__(backbone, neck=neck, head=head, **kwargs)
        object.__setattr__(self, 'teacher', None)  # kept out of the module tree (class docstring)
        self.teacher_input_size: Optional[Sequence[int]] = None
        if teacher is not None:
            unknown = set(teacher) - set(TEACHER_KEYS)
            if unknown or 'config' not in teacher or 'checkpoint' not in teacher:
                raise ValueError(f'DeiTLTClassifier: teacher must be dict(config=..., checkpoint=..., '
                                 f'input_size=None), got keys {sorted(teacher)}')
            size = teacher.get('input_size')
            self.teacher_input_size = None if size is None else tuple(int(s) for s in size)
            model = build_teacher(teacher['config'], teacher['checkpoint'], 'DeiT-LT teacher')
            object.__setattr__(self, 'teacher', model)
            self.teacher.eval()

    def frozen_models(self) -> List[nn.Module]:
        return [] if self.teacher is None else [self.teacher]

    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's logits ``(N, C)`` on ``inputs`` (resized to ``input_size`` when set), eval mode, no grad."""
        self.teacher.eval()
        with torch.no_grad():
            if self.teacher_input_size is not None and tuple(inputs.shape[-2:]) != self.teacher_input_size:
                inputs = F.interpolate(inputs, size=self.teacher_input_size, mode='bicubic', align_corners=False)
            return self.teacher.head(self.teacher.extract_feat(inputs))

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        feats = self.extract_feat(inputs)
        if self.teacher is None:
            return self.head.loss(feats, data_samples)
        return self.head.loss(feats, data_samples, teacher_score=self.teacher_logits(inputs))
