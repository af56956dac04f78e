"""The two-token head of DeiT-LT (Rangwani et al., CVPR 2024): mmpretrain's ``DeiTClsHead`` (CLS and DIST linear
heads, prediction = their average) made trainable with ``DeiTLTLoss``."""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.models.heads import DeiTClsHead
from mmpretrain.structures import DataSample

from ...core.registry import register_into


@register_into('MODELS', scopes=('mmpretrain',))
class DeiTLTClsHead(DeiTClsHead):
    """``DeiTClsHead`` whose loss takes both logits and the teacher's: ``loss(feats, data_samples,
    teacher_score=...)`` hands ``(z_cls, z_dist, labels, teacher_score)`` to its loss (``DeiTLTLoss``).

    Prediction is ``(z_cls + z_dist) / 2`` (mmpretrain's ``DeiTClsHead.forward``; the official ``evaluate``'s
    ``acc1_avg``, the reported "Overall"). Labels are the data samples' ``gt_score`` (batch mixup / cutmix) when
    present, else ``gt_label``. Arguments are ``DeiTClsHead``'s.
    """

    def __init__(self, num_classes: int, in_channels: int, loss: Optional[dict] = None, **kwargs) -> None:
        loss = dict(loss or {})
        if loss.get('type') in ('DeiTLTLoss', 'mmpretrain.DeiTLTLoss'):
            loss.setdefault('num_classes', num_classes)
        super().__init__(num_classes=num_classes, in_channels=in_channels, loss=loss, **kwargs)

    def logits(self, feats: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(z_cls, z_dist)``, each ``(N, C)``."""
        cls_token, dist_token = self.pre_logits(feats)
        return self.layers.head(cls_token), self.layers.head_dist(dist_token)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The prediction logits ``(z_cls + z_dist) / 2`` (no warning in training mode, unlike mmpretrain's)."""
        cls_score, dist_score = self.logits(feats)
        return (cls_score + dist_score) / 2

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample],
             teacher_score: Optional[torch.Tensor] = None, **kwargs) -> Dict[str, torch.Tensor]:
        cls_score, dist_score = self.logits(feats)
        if 'gt_score' in data_samples[0]:
            label = torch.stack([sample.gt_score for sample in data_samples])
        else:
            label = torch.cat([sample.gt_label for sample in data_samples])
        loss = self.loss_module(cls_score, dist_score, label.to(cls_score.device), teacher_score=teacher_score)
        return dict(loss=loss)
