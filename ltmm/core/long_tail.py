"""The exponential long-tail profile used to build CIFAR-LT (Cao et al., LDAM, NeurIPS 2019) and our demo sets."""
from typing import List


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
