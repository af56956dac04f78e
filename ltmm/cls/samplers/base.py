"""Shared machinery of the class-driven samplers: per-class index lists, seeding and the per-rank slice."""
import math
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Dataset, Sampler

EpochLength = Optional[Union[int, str]]


def class_index_lists(dataset: Dataset) -> List[np.ndarray]:
    """Indices of the samples holding each class, from the dataset's ``get_cat_ids(idx)``.

    A single-label sample appears in one list, a multi-label sample in the list of each of its classes (a class
    repeated in one sample counts once). The number of classes is ``len(dataset.metainfo['classes'])`` when the
    dataset names its classes, else the largest label + 1.

    Raises:
        TypeError: the dataset has no ``get_cat_ids``.
        ValueError: a label outside the named classes.
    """
    if not hasattr(dataset, 'get_cat_ids'):
        raise TypeError(f'{type(dataset).__name__} has no get_cat_ids(idx); class-driven samplers need the labels '
                        'of each sample (mmpretrain and mmdet datasets provide it)')
    labels = [sorted({int(c) for c in np.atleast_1d(dataset.get_cat_ids(i))}) for i in range(len(dataset))]
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    max_label = max((ls[-1] for ls in labels if ls), default=-1)
    num_classes = len(classes) if classes is not None else max_label + 1
    if max_label >= num_classes or any(ls and ls[0] < 0 for ls in labels):
        bad = next(i for i, ls in enumerate(labels) if ls and (ls[0] < 0 or ls[-1] >= num_classes))
        raise ValueError(f'{type(dataset).__name__}: sample {bad} has labels {labels[bad]}, outside the '
                         f'{num_classes} classes of its metainfo')
    lists: List[List[int]] = [[] for _ in range(num_classes)]
    for i, ls in enumerate(labels):
        for c in ls:
            lists[c].append(i)
    return [np.asarray(x, dtype=np.int64) for x in lists]


class ClassIndexSampler(Sampler):
    """Base of the samplers that first choose a class, then a sample of that class.

    Subclasses implement :meth:`_draw` (the whole epoch's indices, identical on every rank); this class builds the
    per-class index lists, drops empty classes with a warning, seeds one generator per epoch from ``seed + epoch``
    and hands each rank its contiguous slice of the epoch (the total is rounded up to a multiple of the world size,
    so every rank gets the same number of samples).

    Args:
        dataset: a dataset with ``get_cat_ids(idx)``.
        seed: random seed, identical on all ranks; a shared random seed when None (as mmengine's DefaultSampler).
        num_samples: samples per epoch over all ranks: an int, ``'dataset'`` for ``len(dataset)``, or None for the
            subclass's default.
    """

    def __init__(self, dataset: Dataset, seed: Optional[int] = None, num_samples: EpochLength = None) -> None:
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        lists = class_index_lists(dataset)
        empty = [c for c, idx in enumerate(lists) if len(idx) == 0]
        if len(empty) == len(lists):
            raise ValueError(f'{type(self).__name__}: {type(dataset).__name__} has no labelled sample')
        if empty:
            print_log(f'{type(self).__name__}: classes {empty} have no sample in {type(dataset).__name__}; they are '
                      'never drawn', logger='current', level=30)
        self.class_ids = np.asarray([c for c, idx in enumerate(lists) if len(idx)], dtype=np.int64)
        self.class_lists = [lists[c] for c in self.class_ids]
        self.class_sizes = np.asarray([len(idx) for idx in self.class_lists], dtype=np.int64)
        if num_samples is None:
            total = self._default_length()
        elif num_samples == 'dataset':
            total = len(dataset)
        elif isinstance(num_samples, (int, np.integer)) and not isinstance(num_samples, bool) and num_samples > 0:
            total = int(num_samples)
        else:
            raise ValueError(f"num_samples must be a positive int, 'dataset' or None, got {num_samples!r}")
        self.num_samples = math.ceil(total / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def _default_length(self) -> int:
        """Samples per epoch over all ranks when ``num_samples`` is None."""
        return len(self.dataset)

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` dataset indices for the whole epoch (all ranks)."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        indices = self._draw(np.random.default_rng([self.seed, self.epoch]), self.total_size)
        start = self.rank * self.num_samples
        return iter(indices[start:start + self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Reseed for ``epoch`` (called by mmengine's runner at the start of each epoch)."""
        self.epoch = epoch


def cycle_permutations(rng: np.random.Generator, items: Sequence[int], size: int) -> np.ndarray:
    """First ``size`` items of an endless sequence of fresh random permutations of ``items``."""
    items = np.asarray(items)
    passes = math.ceil(size / len(items))
    order = np.argsort(rng.random((passes, len(items))), axis=1).reshape(-1)[:size]
    return items[order]


def positions_by_class(classes: np.ndarray, num_classes: int) -> List[np.ndarray]:
    """For each class ``c < num_classes``, the increasing positions ``i`` where ``classes[i] == c``."""
    order = np.argsort(classes, kind='stable')
    return np.split(order, np.cumsum(np.bincount(classes, minlength=num_classes))[:-1])


def draw_by_class(rng: np.random.Generator, class_lists: Sequence[np.ndarray], class_probs: np.ndarray,
                  size: int) -> np.ndarray:
    """``size`` draws with replacement: a class with probability ``class_probs``, then one of its samples
    (``class_lists``) uniformly."""
    classes = rng.choice(len(class_lists), size=size, p=class_probs)
    out = np.empty(size, dtype=np.int64)
    for members, slots in zip(class_lists, positions_by_class(classes, len(class_lists))):
        out[slots] = members[rng.integers(0, len(members), size=len(slots))]
    return out
