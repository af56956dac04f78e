"""The exponential long-tail profile used to build CIFAR-LT (Cao et al., LDAM, NeurIPS 2019) and our demo sets, and
the many / medium / few-shot class groups."""
from typing import Dict, List, Sequence

import numpy as np


def exponential_profile(max_count: int, num_classes: int, imbalance_factor: float) -> List[int]:
    """Per-class counts ``n_i = int(max_count * (1 / imbalance_factor) ** (i / (C - 1)))``, head class first.

    This is the official LDAM-DRW / CIFAR-LT formula (``int`` truncates), so ``n_0 = max_count`` and
    ``n_{C-1} = int(max_count / imbalance_factor)``.

    Args:
        max_count: count of the head class (class 0).
        num_classes: number of classes ``C`` (>= 1).
        imbalance_factor: ratio head / tail (>= 1).
    """
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    if imbalance_factor < 1:
        raise ValueError(f'imbalance_factor must be >= 1, got {imbalance_factor}')
    if num_classes == 1:
        return [int(max_count)]
    return [int(max_count * (1.0 / imbalance_factor) ** (i / (num_classes - 1.0))) for i in range(num_classes)]


def shot_groups(counts: Sequence[int], many_min: int = 100, few_max: int = 20) -> Dict[str, List[int]]:
    """The class indices of each shot group: ``'few'`` with ``n <= few_max``, ``'medium'`` with
    ``few_max < n < many_min``, ``'many'`` with ``n >= many_min`` training images (defaults: LFME's
    ``ImageNet_shots.pkl``, the inclusive form of the usual > 100 / < 20 split); a group may be empty."""
    if few_max >= many_min:
        raise ValueError(f'few_max ({few_max}) must be below many_min ({many_min})')
    n = np.asarray(counts)
    return {'few': np.flatnonzero(n <= few_max).tolist(),
            'medium': np.flatnonzero((n > few_max) & (n < many_min)).tolist(),
            'many': np.flatnonzero(n >= many_min).tolist()}
