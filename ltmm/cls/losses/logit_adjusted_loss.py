"""Logit-adjusted softmax cross-entropy (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021)."""
from typing import Optional

import torch

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy


def logit_adjusted_loss(cls_score: torch.Tensor, target: torch.Tensor, log_prior: torch.Tensor,
                        tau: float = 1.0) -> torch.Tensor:
    """Per-sample ``CE(z + tau * log pi, y)``, shape (N,).

    Args:
        cls_score: logits ``z`` (N, C).
        target: class probabilities ``y`` (N, C) (one-hot, or soft under mixup).
        log_prior: ``log pi`` (C,), the log of the training class prior.
        tau: scale of the adjustment.
    """
    return soft_cross_entropy(cls_score + tau * log_prior, target)


@register_into('MODELS', scopes=('mmpretrain',))
class LogitAdjustedLoss(ClassificationLoss):
    """Logit-adjusted loss: ``L = -log softmax(z + tau * log pi)_y``.

    Training adds the scaled log prior to every logit; prediction uses the raw logits, which then estimate the
    balanced (uniform-prior) posterior. Official code: google-research/google-research ``logit_adjustment/utils.py``
    (``--mode=loss``, ``--tau=1.0``), which adds ``log(pi^tau + 1e-12)``; every class count here must be positive
    (a zero count raises a ValueError naming the class), so the epsilon is dropped. The post-hoc variant (train with
    plain CE, subtract ``tau * log pi`` at test time) is a head option, not this loss. Soft labels (mixup) give
    ``-sum_k y_k log softmax(z + tau log pi)_k``, as LiVT's ``Bal_CE_loss``.

    Normalisation: the mean over the batch (mmpretrain's ``avg_factor = N``), as the official code.

    Args:
        class_stats: training class counts, anything ``load_class_stats`` accepts; ``pi_j = n_j / sum_k n_k``.
        num_classes: ``C``, checked against ``class_stats`` when given.
        tau: adjustment strength. Default 1.0 (official); 0 gives plain cross-entropy.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, tau: float = 1.0,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        self.tau = float(tau)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return logit_adjusted_loss(logits, target, self.log_prior(), self.tau)

