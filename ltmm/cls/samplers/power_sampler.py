"""Class-frequency-power sampling: square-root sampling and its family."""
from typing import Optional

import numpy as np
from torch.utils.data import Dataset

from ...core.registry import register_into
from .base import ClassIndexSampler, EpochLength, draw_by_class


@register_into('DATA_SAMPLERS', scopes=('mmpretrain',))
class PowerSampler(ClassIndexSampler):
    """Sampling with class probabilities ``p_c = n_c^q / sum_j n_j^q`` (Mahajan et al., ECCV 2018; the
    "square-root sampling" row of Kang et al., ICLR 2020, whose ``MixedPrioritizedSampler`` with ``nroot=2`` draws
    classes this way).

    Each draw picks a class ``c`` with probability ``p_c``, then one of its ``n_c`` samples uniformly (with
    replacement). ``n_c`` is the number of samples holding class ``c`` (``dataset.get_cat_ids``): for single-label
    data ``q=1`` is instance-balanced sampling, ``q=0`` class-balanced and ``q=0.5`` square-root sampling. Classes
    without a sample are skipped with a warning. Each rank gets a contiguous slice of the epoch.

    Args:
        dataset: a dataset with ``get_cat_ids(idx)``.
        q: the power. Default 0.5 (square-root sampling).
        num_samples: samples per epoch over all ranks (int), or ``'dataset'`` / None for ``len(dataset)`` (the
            classifier-balancing epoch).
        seed: random seed shared by all ranks; the epoch is added by :meth:`set_epoch`. A shared random seed when
            None.
    """

    def __init__(self, dataset: Dataset, q: float = 0.5, num_samples: EpochLength = None,
                 seed: Optional[int] = None) -> None:
        if not np.isfinite(q):
            raise ValueError(f'q must be a finite number, got {q!r}')
        self.q = float(q)
        super().__init__(dataset, seed=seed, num_samples=num_samples)
        weights = self.class_sizes.astype(np.float64) ** self.q
        self.class_probs = weights / weights.sum()

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return draw_by_class(rng, self.class_lists, self.class_probs, size)
