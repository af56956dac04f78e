"""Equalization Loss (EQL v1) for two-stage detectors.

Tan et al., "Equalization Loss for Long-Tailed Object Recognition", CVPR 2020. Official code:
tztztztztz/eql.detectron2 (``projects/EQL``) and its mmdet port tztztztztz/eqlv2 ``mmdet/models/losses/eql.py``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss, onehot_bce_sum


def eql_masked_negatives(neg_tail: Tensor, neg_own: Tensor, labels: Tensor, tail_mask: Tensor) -> Tensor:
    """``sum_{i fg} sum_{j tail, j != y_i} l_ij``: the terms EQL drops (the negative terms of tail classes in
    foreground RoIs; a background RoI has label C = ``tail_mask.numel()``), given the elementwise loss of a negative
    target on the tail columns, ``neg_tail`` (N, #tail: ``l[:, tail_mask]``), and on each RoI's own column,
    ``neg_own`` (N,: ``l[i, min(y_i, C - 1)]``). EQL's ``l`` is ``softplus`` (= ``BCEWithLogits(z, 0)``), GOL's the
    Gumbel one; the caller computes it once."""
    num_classes = tail_mask.numel()
    is_fg = labels < num_classes
    own_is_tail = is_fg & tail_mask[labels.clamp(max=num_classes - 1)]
    return (neg_tail.sum(dim=1) * is_fg).sum() - (neg_own * own_is_tail).sum()


def eql_tail_mask(class_stats: ClassStatsLike, num_classes: int, lambda_: float) -> Tensor:
    """EQL's tail classes, ``T_lambda(f_j) = [f_j < lambda_]`` with ``f_j = image_count_j / num_images`` (bool, (C,));
    a class without training image is tail."""
    stats = load_class_stats(class_stats, num_classes=num_classes, allow_zero=True)
    return torch.tensor(stats.image_count, dtype=torch.float64) / stats.num_images < lambda_


@register_into('MODELS', scopes=('mmdet',))
class EqualizationLoss(BBoxHeadContractLoss):
    """EQL v1: sigmoid cross-entropy over C class logits (no background logit) in which foreground RoIs send no
    negative gradient to tail classes.

    ``L = sum_ij w_ij * BCEWithLogits(z_ij, y_ij) / N`` with ``w_ij = 1 - E(i) T_lambda(f_j) (1 - y_ij)``, where
    ``E(i) = 1`` iff RoI i is foreground, ``f_j = image_count_j / num_images`` and ``T_lambda(f) = 1`` iff
    ``f < lambda_``. A background RoI's target row is all zeros. ``label_weights`` and ``avg_factor`` are ignored and
    the sum is divided by the number of RoIs N, as in the official code. Test scores are ``sigmoid(z)`` plus a zero
    background column. Pair it with a prior-probability bias init of 0.001 for ``fc_cls`` (official
    ``PRIOR_PROB``), e.g. ``init_cfg`` ``dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls'))``.

    Args:
        num_classes: number of foreground classes C.
        class_stats: training class statistics (``ltmm.core.class_stats``); ``image_count`` and ``num_images`` give f_j.
            For LVIS the annotated training images are counted (99,388 in LVIS v1 train, as the official tables).
        lambda_: frequency threshold. 0.0011 for LVIS v1 (tztztztztz/eqlv2 config; 815 tail classes), 0.00177 for
            LVIS v0.5 (eql.detectron2; 915 classes).
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, lambda_: float = 0.0011,
                 loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=False, loss_weight=loss_weight)
        self.lambda_ = lambda_
        self.register_buffer('tail_mask', eql_tail_mask(class_stats, num_classes, lambda_), persistent=False)

    def get_cls_channels(self, num_classes: int) -> int:
        """C class logits, no background logit."""
        self._check_num_classes(num_classes)
        return num_classes

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        logits = cls_score.float()
        neg_own = F.softplus(logits.gather(1, labels.clamp(max=self.num_classes - 1).unsqueeze(1)).squeeze(1))
        dropped = eql_masked_negatives(F.softplus(logits[:, self.tail_mask]), neg_own, labels, self.tail_mask)
        loss = onehot_bce_sum(logits, labels) - dropped
        return self.loss_weight * loss / max(cls_score.size(0), 1)
