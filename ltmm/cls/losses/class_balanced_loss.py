"""Class-balanced loss via the effective number of samples (Cui et al., "Class-Balanced Loss Based on Effective
Number of Samples", CVPR 2019)."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from ...core.reweighting import effective_number_weights
from .base import ClassificationLoss, check_choice, soft_cross_entropy

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
class ClassBalancedLoss(ClassificationLoss):
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
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        beta: effective-number hyper-parameter in [0, 1). Default 0.9999 (the official CIFAR-LT scripts).
        loss_type: 'softmax' (default), 'sigmoid' or 'focal'.
        gamma: focusing parameter of 'focal'. Default 1.0 (official).
        loss_weight: multiplies the loss. Default 1.0.
        normalize: 'batch' (official) or 'sum_weights'.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, beta: float = 0.9999,
                 loss_type: str = 'softmax', gamma: float = 1.0, loss_weight: float = 1.0, normalize: str = 'batch',
                 reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, normalize=normalize)
        check_choice('loss_type', loss_type, LOSS_TYPES)
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        self.beta = float(beta)
        self.loss_type = loss_type
        self.gamma = float(gamma)
        self.register_buffer('cb_weight', effective_number_weights(self.class_counts, self.beta), persistent=False)

    @property
    def class_weight(self) -> torch.Tensor:
        """The class-balanced weights ``w`` (C,)."""
        return self.cb_weight

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if self.loss_type == 'softmax':
            return soft_cross_entropy(logits, target, self.class_weight)
        gamma = self.gamma if self.loss_type == 'focal' else 0.0
        return (target * self.class_weight).sum(dim=1) * sigmoid_focal_per_sample(logits, target, gamma)
