"""The long-tailed split protocol of VOC-LT and COCO-MLT (the Distribution-Balanced loss paper's
``create_longtail_dataset``, reimplemented); ``tools/data/make_multilabel_lt.py`` runs it.

1. reference counts: the Pareto pdf with shape ``b = 6`` at ``C`` points evenly spaced from its 0 to its 0.99
   quantile, mapped to ``[min, max]`` (``(max - min) * x^-(b+1) + min``) and rounded down;
2. classes are visited in decreasing order of ``sum_i P(j | i)``, the co-occurrence sum, not of raw frequency, and
   the k-th visited class gets the k-th reference count;
3. at each visit, images of that class are added (drawn from the source images holding it) or removed (drawn from
   the selected ones holding it) until it reaches its reference count; the other labels of those images come along.

The published splits (1,142 VOC-LT and 1,909 COCO-MLT training images) came from Python's ``random`` over sets,
whose order is not reproducible, so pass the published image-id lists to reproduce them exactly.
"""
import random
import warnings
from typing import List, Sequence

import numpy as np


def pareto_reference(num_classes: int, max_count: int, min_count: int = 1, b: float = 6.0,
                     tail: float = 0.99) -> np.ndarray:
    """Reference per-class counts, largest first: ``floor((max - min) * x^-(b+1) + min)`` at ``num_classes`` points
    ``x`` evenly spaced over the Pareto(b) quantiles ``[0, tail]`` (``x = (1 - q)^(-1/b)``); i.e. scipy's
    ``pareto(b).pdf(x) * (max - min) / b + min``."""
    if num_classes < 1 or max_count < min_count or min_count < 0:
        raise ValueError(f'need num_classes >= 1 and max_count >= min_count >= 0, got {num_classes}, '
                         f'{max_count}, {min_count}')
    x = np.linspace(1.0, (1.0 - tail) ** (-1.0 / b), num_classes)
    return ((max_count - min_count) * x ** -(b + 1) + min_count).astype(np.int64)


def cooccurrence_order(labels: np.ndarray) -> np.ndarray:
    """Classes sorted by decreasing ``sum_i P(j | i)`` (the order the split generator visits them); classes without
    any image get no row and come where their column sum puts them.

    Args:
        labels: (M, C) binary label matrix.
    """
    labels = np.asarray(labels, dtype=np.float64)
    co = labels.T @ labels  # co[i, j] = images holding both i and j
    diag = np.diag(co)
    cond = np.divide(co, diag[:, None], out=np.zeros_like(co), where=diag[:, None] > 0)  # P(j | i)
    return np.argsort(-cond.sum(0), kind='stable')


def select_long_tail(labels: np.ndarray, reference: Sequence[int], seed: int = 0) -> np.ndarray:
    """Indices (sorted) of the images the long-tailed subset keeps; see the module docstring.

    Args:
        labels: (M, C) binary label matrix of the source images.
        reference: (C,) target counts, assigned to the classes in :func:`cooccurrence_order`.
        seed: seed of the ``random.Random`` that draws the images.
    """
    labels = np.asarray(labels) > 0
    num_classes = labels.shape[1]
    if len(reference) != num_classes:
        raise ValueError(f'{len(reference)} reference counts for {num_classes} classes')
    rng = random.Random(seed)
    members = [np.flatnonzero(labels[:, c]).tolist() for c in range(num_classes)]
    image_labels = [np.flatnonzero(row).tolist() for row in labels]
    chosen_of_class: List[set] = [set() for _ in range(num_classes)]
    selected: set = set()
    short = []
    for want, c in zip(reference, cooccurrence_order(labels)):
        have = len(chosen_of_class[c])
        remove = want < have
        if remove:
            moved = rng.sample(sorted(chosen_of_class[c]), have - want)
            selected.difference_update(moved)
        else:
            pool = [i for i in members[c] if i not in chosen_of_class[c]]
            if len(pool) < want - have:
                short.append((int(c), int(want), len(members[c])))
            moved = rng.sample(pool, min(len(pool), want - have))
            selected.update(moved)
        for i in moved:
            for label in image_labels[i]:
                if remove:
                    chosen_of_class[label].discard(i)
                else:
                    chosen_of_class[label].add(i)
    if short:
        warnings.warn('classes with fewer source images than their reference count (class, wanted, available): '
                      f'{short}')
    return np.array(sorted(selected), dtype=np.int64)
