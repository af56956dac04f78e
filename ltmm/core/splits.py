"""The class groups long-tail papers report, by training image count ``n``, in one place.

- ``shot`` (few / medium / many): many ``n > 100``, few ``n < 20``, medium 20..100. Classifier-balancing's
  ``shot_acc`` (Kang et al., ICLR 2020), RIDE, SADE; ImageNet-LT, Places-LT, iNaturalist, CIFAR-LT.
- ``multilabel`` (tail / medium / head): head ``n >= 100``, tail ``n < 20``, medium 20..99. The
  Distribution-Balanced loss (Wu et al., ECCV 2020) on VOC-LT / COCO-MLT.
- ``lvis`` (r / c / f): rare ``n <= 10``, common 11..100, frequent ``n > 100``; LVIS's ``frequency`` field and
  lvis-api's APr / APc / APf.

Note the boundaries: 100 training images is a *medium* class for ``shot`` and ``lvis`` but a *head* class for
``multilabel``, as each protocol defines it. MiSLAS reports head / medium / tail over fixed index ranges of
frequency-sorted classes, not these thresholds.
"""
from typing import Dict, Sequence, Tuple

import numpy as np

# the groups of each grouping, rare first (the order plots and tables list them in)
GROUPS: Dict[str, Tuple[str, str, str]] = {
    'shot': ('few', 'medium', 'many'),
    'multilabel': ('tail', 'medium', 'head'),
    'lvis': ('r', 'c', 'f'),
}
SHOT_MANY_THR, SHOT_FEW_THR = 100, 20
MULTILABEL_HEAD_THR, MULTILABEL_TAIL_THR = 100, 20
LVIS_RARE_MAX, LVIS_COMMON_MAX = 10, 100


def _check_order(low: int, high: int, low_name: str, high_name: str) -> None:
    if low > high:
        raise ValueError(f'{low_name} ({low}) must not exceed {high_name} ({high})')


def shot_groups(train_counts: Sequence[int], many_thr: int = SHOT_MANY_THR, few_thr: int = SHOT_FEW_THR) -> np.ndarray:
    """Group of each class: 'many' if ``n > many_thr``, 'few' if ``n < few_thr``, else 'medium'."""
    _check_order(few_thr, many_thr, 'few_thr', 'many_thr')
    n = np.asarray(train_counts)
    return np.where(n > many_thr, 'many', np.where(n < few_thr, 'few', 'medium'))


def multilabel_splits(train_counts: Sequence[int], head_thr: int = MULTILABEL_HEAD_THR,
                      tail_thr: int = MULTILABEL_TAIL_THR) -> np.ndarray:
    """Split of each class: 'head' if ``n >= head_thr``, 'tail' if ``n < tail_thr``, else 'medium'."""
    _check_order(tail_thr, head_thr, 'tail_thr', 'head_thr')
    n = np.asarray(train_counts)
    return np.where(n >= head_thr, 'head', np.where(n < tail_thr, 'tail', 'medium'))


def lvis_frequency(image_count: int) -> str:
    """LVIS frequency group of one category from its training image count: 'r' (<= 10), 'c' (11-100), 'f' (> 100)."""
    return str(lvis_groups([image_count])[0])


def lvis_groups(train_counts: Sequence[int]) -> np.ndarray:
    """LVIS frequency group ('r', 'c' or 'f') of each class."""
    n = np.asarray(train_counts)
    return np.where(n <= LVIS_RARE_MAX, 'r', np.where(n <= LVIS_COMMON_MAX, 'c', 'f'))


def group_counts(train_counts: Sequence[int]) -> Dict[str, Dict[str, int]]:
    """Number of classes in every group of every grouping, e.g.
    ``{'shot': {'few': 5, 'medium': 4, 'many': 1}, ...}``."""
    assigned = {'shot': shot_groups(train_counts), 'multilabel': multilabel_splits(train_counts),
                'lvis': lvis_groups(train_counts)}
    return {name: {g: int((assigned[name] == g).sum()) for g in GROUPS[name]} for name in GROUPS}
