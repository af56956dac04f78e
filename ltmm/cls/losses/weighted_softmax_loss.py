"""Weighted Softmax, the class-weighted cross-entropy baseline of the long-tail survey (Zhang et al., "Deep
Long-Tailed Learning: A Survey", TPAMI 2023; its codebase Vanint/Awesome-LongTailed-Learning)."""
from typing import Optional

import numpy as np
import torch

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from ...core.reweighting import Counts
from .base import ClassificationLoss, soft_cross_entropy


def log_ratio_weights(counts: Counts) -> torch.Tensor:
    """The survey's class weights ``w_j = 1 + ln(n_max / n_j) = 1 - ln(pi_j / pi_max)``, shape (C,), float32
    (computed in float64). The most frequent class gets 1, a class ``e`` times rarer gets 2; no further
    normalisation.

    Args:
        counts: training samples per class, shape (C,); every count must be >= 1.

    Raises:
        ValueError: an empty or non-1-D ``counts``, or a zero count (its weight would be infinite), naming the class.
    """
    n = counts.double() if isinstance(counts, torch.Tensor) else torch.tensor(np.array(counts, dtype=np.float64))
    if n.ndim != 1 or n.numel() == 0:
        raise ValueError(f'counts must be a non-empty 1-D sequence, got shape {tuple(n.shape)}')
    if (n < 1).any():
        raise ValueError(f'log-ratio weights need every class count >= 1 (1 + ln(n_max / 0) is infinite); class index '
                         f'{torch.nonzero(n < 1).flatten().tolist()} has none')
    return (1.0 + torch.log(n.max() / n)).float()


@register_into('MODELS', scopes=('mmpretrain',))
class WeightedSoftmaxLoss(ClassificationLoss):
    """Weighted Softmax: ``L = sum_i w_{y_i} CE(z_i, y_i) / sum_i w_{y_i}`` with ``w_j = 1 + ln(n_max / n_j)``.

    Official code: Vanint/Awesome-LongTailed-Learning ``Main-codebase/loss/WeightedSoftmaxLoss.py`` (also in
    hyperconnect/LADE and the classifier-balancing lineage): ``prob = n / sum(n)``, ``prob = prob / prob.max()``,
    ``weight = 1 - log(prob)``, returned as ``nn.CrossEntropyLoss(weight=weight)``. The weights are **not**
    proportional to ``1 / n``: they grow with the log of the imbalance, from 1 (the head class) to
    ``1 + ln(n_max / n_min)`` (6.55 on ImageNet-LT, 5.61 on CIFAR-100-LT IF100). PyTorch's weighted mean divides by
    ``sum_i w_{y_i}``, not by the batch size: ``normalize='sum_weights'`` (the default) does the same.
    Prediction uses the raw logits (the survey's ``eval`` adds no prior).

    Deviations from the official code:

    - the counts come from ``class_stats`` for any dataset; the official file reads the hard-coded
      ``./data/ImageNet_LT/ImageNet_LT_train.txt`` and assumes 1,000 classes;
    - a class without training samples raises a ValueError naming it (the official weight is then infinite);
    - soft labels (mixup) give ``-sum_k w_k y_k log softmax(z)_k`` over ``sum_i sum_k w_k y_ik``.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        loss_weight: multiplies the loss. Default 1.0.
        normalize: 'sum_weights' (default, PyTorch's ``CrossEntropyLoss(weight=w)`` mean, official) or 'batch'
            (divide by the batch size).
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, loss_weight: float = 1.0,
                 normalize: str = 'sum_weights', reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, normalize=normalize)
        self.register_buffer('log_ratio_weight', log_ratio_weights(self.class_counts), persistent=False)

    @property
    def class_weight(self) -> torch.Tensor:
        """The weights ``w = 1 + ln(n_max / n)`` (C,)."""
        return self.log_ratio_weight

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return soft_cross_entropy(logits, target, self.class_weight)
