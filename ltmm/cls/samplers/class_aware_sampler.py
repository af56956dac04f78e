"""Class-aware (class-balanced) sampling, for single- and multi-label data."""
import math
from typing import Optional

import numpy as np
from torch.utils.data import Dataset

from ...core.registry import register_into
from .base import ClassIndexSampler, EpochLength, cycle_permutations, positions_by_class


@register_into('DATA_SAMPLERS', scopes=('mmpretrain',))
class ClassAwareSampler(ClassIndexSampler):
    """Class-aware sampling (Shen et al., "Relay Backpropagation", ECCV 2016), with the semantics of the
    classifier-balancing code (Kang et al., ICLR 2020) and of the Distribution-Balanced loss (Wu et al., ECCV 2020).

    Classes are visited in a random order that is reshuffled after every pass over the classes; each visit yields
    ``num_samples_cls`` consecutive samples of the visited class, taken from that class's own list, which is
    reshuffled whenever it is exhausted. Every class is therefore drawn equally often, whatever its size. A
    multi-label sample belongs to the list of each of its classes (``dataset.get_cat_ids(idx)``), so it can be drawn
    through any of them. Classes without a sample are skipped, with a warning, and do not count in ``C`` below.

    Epoch length (samples over all ranks):
        ``num_samples=None``: ``max_c n_c * C // reduce``, as both official samplers define ``__len__``
        (classifier-balancing: ``reduce=1``; DB loss: ``num_samples_cls=3, reduce=4``). Note that the
        classifier-balancing training loop stops each epoch after ``floor(N / batch_size)`` iterations, i.e. it sees
        about ``N`` samples: reproduce that with ``num_samples='dataset'``.

    Each rank gets a contiguous slice of the epoch (the same for every rank's count), so the groups of
    ``num_samples_cls`` stay together in a batch. mmdet's ``ClassAwareSampler`` (detection, ``num_sample_class``)
    lives in mmdet's scope; this one is registered in mmpretrain's ``DATA_SAMPLERS``.

    Args:
        dataset: a dataset with ``get_cat_ids(idx)`` (mmpretrain and mmdet datasets have it).
        num_samples_cls: consecutive samples per class visit. Default 4 (classifier-balancing configs).
        reduce: divides the default epoch length. Default 1 (classifier-balancing); the DB-loss configs use 4.
        num_samples: explicit samples per epoch over all ranks (int), ``'dataset'`` for ``len(dataset)``, or None
            for ``max_c n_c * C // reduce``.
        seed: random seed shared by all ranks; the epoch is added by :meth:`set_epoch`. A shared random seed when
            None.
    """

    def __init__(self, dataset: Dataset, num_samples_cls: int = 4, reduce: int = 1, num_samples: EpochLength = None,
                 seed: Optional[int] = None) -> None:
        if not isinstance(num_samples_cls, int) or num_samples_cls < 1:
            raise ValueError(f'num_samples_cls must be a positive int, got {num_samples_cls!r}')
        if not isinstance(reduce, int) or reduce < 1:
            raise ValueError(f'reduce must be a positive int, got {reduce!r}')
        self.num_samples_cls = num_samples_cls
        self.reduce = reduce
        super().__init__(dataset, seed=seed, num_samples=num_samples)

    def _default_length(self) -> int:
        return max(1, int(self.class_sizes.max()) * len(self.class_sizes) // self.reduce)

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        k = self.num_samples_cls
        visits = cycle_permutations(rng, np.arange(len(self.class_lists)), math.ceil(size / k))
        out = np.empty((len(visits), k), dtype=np.int64)
        for members, slots in zip(self.class_lists, positions_by_class(visits, len(self.class_lists))):
            if len(slots):
                out[slots] = cycle_permutations(rng, members, len(slots) * k).reshape(-1, k)
        return out.reshape(-1)[:size]
