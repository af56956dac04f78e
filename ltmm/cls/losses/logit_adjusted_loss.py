"""Logit-adjusted softmax cross-entropy (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021)."""
from typing import Optional

import torch

from ...registry import register_into
from .reweighting import ClassCountLoss, reduce_class_weighted, soft_cross_entropy


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
class LogitAdjustedLoss(ClassCountLoss):
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
        tau: adjustment strength. Default 1.0 (official); 0 gives plain cross-entropy.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, loss_weight=loss_weight, reduction=reduction)
        self.tau = float(tau)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (N, C) logits; label (N,) class indices or (N, C) soft labels; weight (N,) sample
        weights; avg_factor: denominator of the mean; reduction_override: 'none', 'mean' or 'sum'."""
        reduction = self.reduction_mode(reduction_override)
        logits, target = self.prepare(cls_score, label)
        loss = logit_adjusted_loss(logits, target, self.log_prior(), self.tau)
        return self.loss_weight * reduce_class_weighted(loss, weight, reduction, avg_factor)

