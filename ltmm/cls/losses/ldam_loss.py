"""LDAM: label-distribution-aware margin loss (Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware
Margin Loss", NeurIPS 2019), with its deferred re-weighting (DRW, :class:`DeferredReweighting`)."""
from typing import Optional

import torch

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy


def ldam_margins(counts: torch.Tensor, max_m: float = 0.5) -> torch.Tensor:
    """``m_j = max_m * n_j^(-1/4) / max_k n_k^(-1/4)``: the rarest class gets ``max_m``. Shape (C,)."""
    inv = counts.double().pow(-0.25)
    return (inv * (max_m / inv.max())).float()


def ldam_loss(cls_score: torch.Tensor, target: torch.Tensor, margins: torch.Tensor, s: float = 30.0,
              class_weight: Optional[torch.Tensor] = None, hard: bool = True) -> torch.Tensor:
    """Per-sample LDAM loss, shape (N,).

    Hard labels: ``w_y * CE(s * (z - m_y * onehot_y), y)``. Soft labels (mixup): the expectation over the target
    distribution, ``sum_k y_k w_k CE(s * (z - m_k e_k), k)`` (for two mixed classes this is LiVT's
    ``v1 L(y1) + v2 L(y2)``), computed in closed form: ``CE(s(z - m_k e_k), k) = -log p_k + s m_k
    + log(1 - p_k (1 - exp(-s m_k)))`` with ``p = softmax(s z)``, evaluated in float64.

    Args:
        cls_score: cosine logits ``z`` (N, C).
        target: class probabilities (N, C); one-hot when ``hard``.
        margins: per-class margins ``m`` (C,).
        s: logit scale.
        class_weight: per-class weights ``w`` (C,); None for all ones.
        hard: whether ``target`` is one-hot.
    """
    if hard:
        return soft_cross_entropy(s * (cls_score - margins * target), target, class_weight)
    sm = s * margins.double()
    p = torch.softmax(s * cls_score.double(), dim=1)
    per_class = -torch.log_softmax(s * cls_score.double(), dim=1) + sm + torch.log1p(-p * -torch.expm1(-sm))
    if class_weight is not None:
        target = target * class_weight
    return (target.double() * per_class).sum(dim=1).float()


@register_into('MODELS', scopes=('mmpretrain',))
class LDAMLoss(ClassificationLoss):
    """LDAM loss: ``L = -log softmax(s * (z - m_y e_y))_y`` on cosine logits ``z``, weighted by ``w_y``.

    ``m_j = max_m * n_j^(-1/4) / max_k n_k^(-1/4)``. Official code: kaidic/LDAM-DRW ``losses.py`` (``max_m=0.5``,
    ``s=30``), used with the normed-linear classifier of ``models/resnet_cifar.py``: pair it with
    ``CosineClsHead(scale=1.0)``. A head that already multiplies by ``s`` (RIDE's form) is equivalent with
    ``s=1`` and ``max_m`` multiplied by the head's scale.

    Class weights ``w``: all ones without ``drw``; with ``drw=dict(start_epoch=160, beta=0.9999)`` (the official
    CIFAR-LT rule, 200 epochs) they switch to effective-number weights at ``start_epoch`` (see
    :class:`DeferredReweighting`; ``LossEpochHook`` tells the loss the epoch). Normalisation follows the official
    ``F.cross_entropy(weight=w)``: ``sum_i w_{y_i} l_i / sum_i w_{y_i}`` (``normalize='sum_weights'``, which ignores
    mmpretrain's ``avg_factor`` for the mean); with all ones this is the batch mean. ``normalize='batch'`` divides
    by ``avg_factor`` (N) instead. Soft labels (mixup) give the expected loss over the target distribution (see
    :func:`ldam_loss`). A zero count raises a ValueError.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given (``CosineClsHead`` fills it in).
        max_m: the largest margin (rarest class). Default 0.5.
        s: logit scale applied inside the loss. Default 30.0.
        drw: deferred re-weighting, ``dict(start_epoch=..., beta=0.9999)``; None (default) never re-weights.
        loss_weight: multiplies the loss. Default 1.0.
        normalize: 'sum_weights' (official) or 'batch'.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """
    supports_drw = True

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, max_m: float = 0.5,
                 s: float = 30.0, drw: Optional[dict] = None, loss_weight: float = 1.0, normalize: str = 'sum_weights',
                 reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, normalize=normalize,
                         drw=drw)
        if max_m < 0 or s <= 0:
            raise ValueError(f'LDAMLoss needs max_m >= 0 and s > 0, got max_m={max_m}, s={s}')
        self.max_m = float(max_m)
        self.s = float(s)
        self.register_buffer('margins', ldam_margins(self.class_counts, self.max_m), persistent=False)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return ldam_loss(logits, target, self.margins, self.s, self.class_weight, hard=label.dim() == 1)
