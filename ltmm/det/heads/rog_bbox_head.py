"""The bbox head of ROG: mmdet's Shared2FC head plus the global ranking loss ``loss_rank``.

Zhang et al., "Reconciling Object-Level and Global-Level Objectives for Long-Tail Detection", ICCV 2023
(EricZsy/ROG ``ROGShared2FCBBoxHead``).
"""
from typing import Optional

from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor

from ...core.registry import register_into


@register_into('MODELS', scopes=('mmdet',))
class ROGShared2FCBBoxHead(Shared2FCBBoxHead):
    """``Shared2FCBBoxHead`` whose losses gain ``loss_rank`` (``ROGRankingLoss``) on the class logits of all
    sampled RoIs, beside whatever ``loss_cls`` the config sets (sigmoid CE or Seesaw in the official configs).

    Args:
        loss_rank: config of the ranking loss; ``num_classes`` is filled in from the head.
        *args, **kwargs: those of ``Shared2FCBBoxHead``.
    """

    def __init__(self, *args, loss_rank: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        loss_rank = dict(type='ROGRankingLoss') if loss_rank is None else dict(loss_rank)
        if loss_rank.setdefault('num_classes', self.num_classes) != self.num_classes:
            raise ValueError(f'ROGShared2FCBBoxHead: loss_rank.num_classes={loss_rank["num_classes"]} but the head '
                             f'has num_classes={self.num_classes}')
        self.loss_rank = MODELS.build(loss_rank)

    def loss(self, cls_score: Tensor, bbox_pred: Tensor, rois: Tensor, labels: Tensor, label_weights: Tensor,
             bbox_targets: Tensor, bbox_weights: Tensor, reduction_override: Optional[str] = None) -> dict:
        losses = super().loss(cls_score, bbox_pred, rois, labels, label_weights, bbox_targets, bbox_weights,
                              reduction_override=reduction_override)
        if cls_score is not None and cls_score.numel() > 0:
            losses['loss_rank'] = self.loss_rank(cls_score, labels)
        return losses
