"""Balanced Softmax (Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020)."""
from typing import Optional

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .logit_adjusted_loss import LogitAdjustedLoss


@register_into('MODELS', scopes=('mmpretrain',))
class BalancedSoftmaxLoss(LogitAdjustedLoss):
    """Balanced Softmax: ``L = -log softmax(z + log n)_y``, with ``n_j`` the training count of class j.

    Official code: jiawei-ren/BalancedMetaSoftmax-Classification ``loss/BalancedSoftmaxLoss.py``
    (``F.cross_entropy(logits + log(sample_per_class), labels)``, no epsilon, no temperature); prediction uses the
    raw logits. Since softmax ignores a constant shift, ``log n`` and ``log pi = log n - log sum n`` give the same
    loss: this is :class:`LogitAdjustedLoss` with ``tau = 1``. A zero count raises a ValueError naming the class.
    Soft labels (mixup) give ``-sum_k y_k log softmax(z + log n)_k``. Normalisation: the batch mean.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, tau=1.0, loss_weight=loss_weight, reduction=reduction)
