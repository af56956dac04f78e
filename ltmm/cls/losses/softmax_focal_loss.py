"""Softmax focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017) in the two forms the
long-tailed classification literature runs: the long-tail survey's (Vanint/Awesome-LongTailed-Learning) and
LDAM-DRW's (kaidic/LDAM-DRW)."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss


def softmax_focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 3.0,
                       detach_pt: bool = True) -> torch.Tensor:
    """Per-sample ``-sum_k y_k (1 - p_k)^gamma log p_k``, shape (N,), with ``p = softmax(z)``; for a one-hot
    ``y`` this is ``-(1 - p_t)^gamma log p_t``.

    Args:
        logits: ``(N, C)``.
        target: ``(N, C)`` class probabilities (one-hot rows for hard labels).
        gamma: the focusing exponent, ``>= 0`` (0 gives cross-entropy).
        detach_pt: True: the modulating factor ``(1 - p)^gamma`` is a constant for the gradient (the survey's
            ``pt = logpt.detach().exp()``); False: it is differentiated too (LDAM-DRW's ``p = exp(-CE)``).
    """
    log_prob = F.log_softmax(logits, dim=1)
    prob = log_prob.detach().exp() if detach_pt else log_prob.exp()
    return -(target * (1.0 - prob).pow(gamma) * log_prob).sum(dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class SoftmaxFocalLoss(ClassificationLoss):
    """Softmax focal loss: ``L = mean_i -(1 - p_{i,y_i})^gamma log p_{i,y_i}``, ``p_i = softmax(z_i)``.

    The long-tail survey's "Focal loss" rows (ImageNet-LT, ResNeXt-50: 45.8 at 90 epochs, 47.2 at 200) come from
    ``Main-codebase/loss/FocalLoss.py`` (Vanint/Awesome-LongTailed-Learning): the softmax form with the modulating
    factor detached (``pt = logpt.detach().exp()``), no ``alpha`` (it asserts ``alpha is None``), the mean over the
    batch, and ``create_loss()`` sets ``gamma = 3.0``: the defaults here. LDAM-DRW's ``FocalLoss``
    (kaidic/LDAM-DRW ``losses.py``; ``cifar_train.py`` runs it with ``gamma = 1`` for its CIFAR-LT "Focal" rows)
    computes ``p = exp(-CE)`` without detaching it, so its gradient also differentiates the factor:
    ``detach_pt=False``. Neither is mmpretrain's ``FocalLoss`` (sigmoid, ``gamma = 2``, ``alpha = 0.25``) nor the
    class-balanced sigmoid focal of ``ClassBalancedLoss(loss_type='focal')``. Prediction uses the raw logits.

    The loss uses no class statistics; ``class_stats`` is taken as by every ltmm loss, to check the logits' width
    (and ``num_classes``) at build and in ``forward``.

    Deviations from the official code: soft labels (mixup / cutmix) give ``-sum_k y_k (1 - p_k)^gamma log p_k``
    (the official files take hard labels only); ``gamma < 0`` is an error.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts (only their
            number is used).
        num_classes: ``C``, checked against ``class_stats`` when given.
        gamma: the focusing exponent. Default 3.0 (the survey's ``create_loss``); 1.0 in LDAM-DRW's CIFAR runs.
        detach_pt: whether the modulating factor is detached from the graph. Default True (the survey); False for
            LDAM-DRW's form.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean' (the survey's ``size_average=True``: the batch mean).
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, gamma: float = 3.0,
                 detach_pt: bool = True, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        self.gamma = float(gamma)
        self.detach_pt = bool(detach_pt)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(logits, target, self.gamma, self.detach_pt)
