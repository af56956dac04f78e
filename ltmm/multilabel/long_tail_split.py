"""The long-tailed split protocol of VOC-LT and COCO-MLT (the Distribution-Balanced loss paper's
``create_longtail_dataset``, reimplemented); ``tools/data/make_multilabel_lt.py`` runs it.

1. reference counts: the Pareto pdf with shape ``b = 6`` at ``C`` points evenly spaced from its 0 to its 0.99
   quantile, mapped to ``[min, max]`` (``pdf(x) * (max - min) / b + min``) and rounded down;
2. classes are visited in decreasing order of ``sum_i P(j | i)``, the co-occurrence sum, not of raw frequency, and
   the k-th visited class gets the k-th reference count;
3. at each visit, images of that class are added (drawn from the source images holding it that are not selected
   yet) or removed (drawn from the selected ones holding it) until it reaches its reference count; the other labels
   of those images come along.

The draws are those of the official script, so its published splits come out bit for bit (VOC-LT: the same 1,142
images of VOC2012 trainval in the same order, from the authors' label matrix): one ``random.Random(seed)`` draws every
sample with ``random.sample`` over the *iteration order of a Python set* (the official code passes sets, which Python
< 3.11 turned into a tuple), and the sets see the same additions and removals in the same order. The images come
out in the iteration order of the selected set, as the official ``img_id`` files list them.
"""
import random
import warnings
from typing import List, Sequence, Set

import numpy as np


def pareto_reference(num_classes: int, max_count: int, min_count: int = 1, b: float = 6.0,
                     tail: float = 0.99) -> np.ndarray:
    """Reference per-class counts, largest first: scipy's ``pareto(b).pdf(x) * (max - min) / b + min`` rounded down,
    with ``pdf(x) = b x^-(b+1)`` at ``num_classes`` points ``x`` evenly spaced over the Pareto(b) quantiles
    ``[0, tail]`` (``x = (1 - q)^(-1/b)``); the operations in scipy's order, so the floors agree."""
    if num_classes < 1 or max_count < min_count or min_count < 0:
        raise ValueError(f'need num_classes >= 1 and max_count >= min_count >= 0, got {num_classes}, '
                         f'{max_count}, {min_count}')
    x = np.linspace(1.0, (1.0 - tail) ** (-1.0 / b), num_classes)
    pdf = b * x ** -(b + 1)
    return (pdf * (max_count - min_count) / b + min_count).astype(np.int64)


def cooccurrence_order(labels: np.ndarray) -> np.ndarray:
    """Classes sorted by decreasing ``sum_i P(j | i)`` (the order the split generator visits them), ties as numpy's
    default ``argsort`` breaks them (the official code's); a class without images gets no row and comes where its
    column sum puts it.

    Args:
        labels: (M, C) binary label matrix.
    """
    labels = np.asarray(labels, dtype=np.float64)
    co = labels.T @ labels  # co[i, j] = images holding both i and j
    diag = np.diag(co)
    cond = np.divide(co, diag[:, None], out=np.zeros_like(co), where=diag[:, None] > 0)  # P(j | i)
    return np.argsort(-cond.sum(0))


def select_long_tail(labels: np.ndarray, reference: Sequence[int], seed: int = 0) -> List[int]:
    """Row indices of the images the long-tailed subset keeps, in the official order; see the module docstring.

    A class with fewer source images than its reference count gets all of them and a warning (the official COCO
    branch; its VOC branch has no such case on VOC2012).

    Args:
        labels: (M, C) binary label matrix of the source images.
        reference: (C,) target counts, assigned to the classes in :func:`cooccurrence_order`.
        seed: seed of the ``random.Random`` that draws the images (the official ``random.seed(0)``).
    """
    labels = np.asarray(labels) > 0
    num_classes = labels.shape[1]
    if len(reference) != num_classes:
        raise ValueError(f'{len(reference)} reference counts for {num_classes} classes')
    rng = random.Random(seed)
    members = [np.flatnonzero(labels[:, c]).tolist() for c in range(num_classes)]
    image_labels = [np.flatnonzero(row).tolist() for row in labels]
    chosen_of_class: List[Set[int]] = [set() for _ in range(num_classes)]
    selected: Set[int] = set()
    short = []
    for want, c in zip(reference, cooccurrence_order(labels)):
        change = int(want) - len(chosen_of_class[c])
        if change < 0:
            for i in rng.sample(tuple(chosen_of_class[c]), -change):
                selected.remove(i)
                for label in image_labels[i]:
                    chosen_of_class[label].remove(i)
        elif change > 0:
            pool = set(members[c]) - chosen_of_class[c]
            if len(pool) < change:
                short.append((int(c), int(want), len(members[c])))
            for i in rng.sample(tuple(pool), min(len(pool), change)):
                selected.add(i)
                for label in image_labels[i]:
                    chosen_of_class[label].add(i)
    if short:
        warnings.warn('classes with fewer source images than their reference count (class, wanted, available): '
                      f'{short}')
    return list(selected)
