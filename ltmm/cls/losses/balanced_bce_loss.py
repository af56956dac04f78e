"""Balanced binary cross-entropy (Bal-BCE) of LiVT (Xu et al., "Learning Imbalanced Data with Vision Transformers",
CVPR 2023)."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss


def balanced_bce_loss(cls_score: torch.Tensor, target: torch.Tensor, log_prior: torch.Tensor,
                      label_smoothing: float = 0.0) -> torch.Tensor:
    """Per-sample ``sum_c BCEWithLogits(z_c + log pi_c - log(1 - pi_c), t_c)``, shape (N,), with the smoothed
    targets ``t = (1 - eps) * y + eps / C``.

    Args:
        cls_score: logits (N, C).
        target: class probabilities (N, C).
        log_prior: ``log pi`` (C,).
        label_smoothing: ``eps``.
    """
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / cls_score.size(1)
    logit_bias = log_prior - torch.log1p(-log_prior.exp())
    return F.binary_cross_entropy_with_logits(cls_score + logit_bias, target, reduction='none').sum(dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class BalancedBCELoss(ClassificationLoss):
    """Bal-BCE: ``L = sum_c BCEWithLogits(z_c + log(pi_c / (1 - pi_c)), t_c)``, the sigmoid counterpart of logit
    adjustment; prediction uses the raw logits.

    Official code: XuZhengzhuo/LiVT ``util/loss.py`` ``BCE_loss(type='Bal')``: the bias ``K * (log pi -
    log(1 - pi))`` with ``K = 1`` hard-coded (the README's "tau of Bal-BCE" is not wired into it), targets from timm's
    Mixup with label smoothing (``off = eps / C``, ``on = 1 - eps + eps / C``; LiVT's scripts use ``eps = 0.1``).
    Normalisation: ``C * BCEWithLogits(...).mean()`` over the (N, C) matrix, i.e. the sum over classes averaged
    over the batch (``avg_factor = N``). Hard labels are turned into (smoothed) one-hot targets; soft labels
    (mixup / cutmix ``gt_score``) are smoothed the same way, as timm's ``mixup_target``. A zero count raises a
    ValueError (``log 0``); at least two classes are needed.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        label_smoothing: ``eps``. Default 0.0 (mmpretrain applies smoothing elsewhere; LiVT uses 0.1).
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, label_smoothing: float = 0.0,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        if self.num_classes < 2:
            raise ValueError(f'BalancedBCELoss needs at least 2 classes; class_stats from {self.stats.source} has '
                             f'{self.num_classes}')
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.label_smoothing = float(label_smoothing)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return balanced_bce_loss(logits, target, self.log_prior(), self.label_smoothing)
