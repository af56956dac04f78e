"""Class-balanced loss via the effective number of samples (Cui et al., "Class-Balanced Loss Based on Effective
Number of Samples", CVPR 2019)."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...registry import register_into
from .reweighting import (ClassCountLoss, NORMALIZE_MODES, effective_number_weights, reduce_class_weighted,
                          soft_cross_entropy)

LOSS_TYPES = ('softmax', 'sigmoid', 'focal')


def sigmoid_focal_per_sample(cls_score: torch.Tensor, target: torch.Tensor, gamma: float = 0.0) -> torch.Tensor:
    """``sum_c (1 - p_t)^gamma * BCEWithLogits(z_c, y_c)`` per sample, shape (N,); ``gamma = 0`` is plain BCE.

    The modulator is the class-balanced code's stable form ``exp(-gamma * (y * z + log(1 + exp(-z))))``, which is
    ``(1 - sigmoid(z))^gamma`` for ``y = 1`` and ``sigmoid(z)^gamma`` for ``y = 0``; not detached, no alpha.
    """
    loss = F.binary_cross_entropy_with_logits(cls_score, target, reduction='none')
    if gamma:
        loss = loss * torch.exp(-gamma * (target * cls_score + F.softplus(-cls_score)))
    return loss.sum(dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class ClassBalancedLoss(ClassCountLoss):
    """Class-balanced (CB) loss: each sample's loss is weighted by ``w_y`` of its class,
    ``w_j = (1 - beta) / (1 - beta^n_j)`` rescaled so that ``sum_j w_j = C``.

    Official code: richardaecn/class-balanced-loss ``src/cifar_main.py`` (TensorFlow). Per sample, with ``p`` the
    softmax or sigmoid probabilities:

    - ``'softmax'``: ``w_y * CE(z, y)``;
    - ``'sigmoid'``: ``w_y * sum_c BCEWithLogits(z_c, onehot_c)`` (the sample's weight over all C columns);
    - ``'focal'``: ``w_y * sum_c (1 - p_t,c)^gamma * BCEWithLogits(z_c, onehot_c)``.

    Normalisation: the official code divides the weighted sum by the batch size (TF ``SUM_BY_NONZERO_WEIGHTS`` for
    softmax, the number of positives for sigmoid / focal): ``normalize='batch'`` (mmpretrain's ``avg_factor = N``).
    ``normalize='sum_weights'`` divides by ``sum_i w_{y_i}`` instead (PyTorch's ``F.cross_entropy(weight=w)``, as
    the CB weights are used in LDAM-DRW and LiVT). For sigmoid / focal the official classifier bias starts at
    ``-log(C - 1)``: set it in the head's ``init_cfg``. ``beta = 0`` gives plain softmax / sigmoid / focal loss.
    Soft labels (mixup) use ``w = sum_k y_k w_k`` and the soft targets. A zero count raises a ValueError.

    Args:
        class_stats: training class counts, anything ``ltmm.class_stats.load_class_stats`` accepts.
        beta: effective-number hyper-parameter in [0, 1). Default 0.9999 (the official CIFAR-LT scripts).
        loss_type: 'softmax' (default), 'sigmoid' or 'focal'.
        gamma: focusing parameter of 'focal'. Default 1.0 (official).
        loss_weight: multiplies the loss. Default 1.0.
        normalize: 'batch' (official) or 'sum_weights'.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats, beta: float = 0.9999, loss_type: str = 'softmax', gamma: float = 1.0,
                 loss_weight: float = 1.0, normalize: str = 'batch', reduction: str = 'mean') -> None:
        super().__init__(class_stats, loss_weight=loss_weight, reduction=reduction)
        if loss_type not in LOSS_TYPES:
            raise ValueError(f'loss_type must be one of {LOSS_TYPES}, got {loss_type!r}')
        if normalize not in NORMALIZE_MODES:
            raise ValueError(f'normalize must be one of {NORMALIZE_MODES}, got {normalize!r}')
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        self.beta = float(beta)
        self.loss_type = loss_type
        self.gamma = float(gamma)
        self.normalize = normalize
        self.register_buffer('class_weight', effective_number_weights(self.class_counts, self.beta),
                             persistent=False)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (N, C) logits; label (N,) class indices or (N, C) soft labels; weight (N,) sample
        weights; avg_factor: denominator of the mean under ``normalize='batch'``; reduction_override."""
        reduction = self.reduction_mode(reduction_override)
        logits, target = self.prepare(cls_score, label)
        sample_class_weight = (target * self.class_weight).sum(dim=1)
        if self.loss_type == 'softmax':
            loss = soft_cross_entropy(logits, target, self.class_weight)
        else:
            gamma = self.gamma if self.loss_type == 'focal' else 0.0
            loss = sample_class_weight * sigmoid_focal_per_sample(logits, target, gamma)
        return self.loss_weight * reduce_class_weighted(loss, weight, reduction, avg_factor, self.normalize,
                                                        sample_class_weight)
