"""Deferred re-sampling (DRS; Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
NeurIPS 2019, the ``Resample`` rule deferred): instance sampling first, class-balanced re-sampling later."""
from typing import Optional

import numpy as np
from torch.utils.data import Dataset

from ...core.registry import register_into
from ...core.reweighting import inverse_effective_number
from .base import ClassIndexSampler, EpochLength, cycle_permutations, draw_by_class


@register_into('DATA_SAMPLERS', scopes=('mmpretrain',))
class DeferredResampler(ClassIndexSampler):
    """Shuffled instance sampling before ``start_epoch``; from it on, ``N`` draws with replacement where each sample
    is drawn with probability proportional to its class's effective-number weight ``(1 - beta) / (1 - beta^n_y)``.

    The per-sample weights make class ``c`` drawn with probability ``n_c w_c / sum_j n_j w_j`` (then one of its
    samples uniformly), which is how this sampler draws. Official code: RSG's ``ImbalancedDatasetSampler``
    (Jianf-Wang/RSG ``Imbalanced_Classification/utils.py``, built at ``epoch == 80`` in ``imagenet_lt_train.py``,
    ``inaturalist_train.py``, ``places_train.py``): ``torch.multinomial`` over the per-sample weights, ``len(dataset)``
    draws with replacement, beta 0.9999 hard-coded. Before ``start_epoch`` the epoch is a random permutation of the
    dataset (the official ``shuffle=True`` loader). The phase follows the epoch (``set_epoch``), so a resumed run
    re-samples from the right epoch on (the official loop switches only when it passes epoch 80 itself).

    Under DDP every rank draws the same epoch (seeded by ``seed`` and the epoch) and takes its contiguous slice.

    Args:
        dataset: a dataset with ``get_cat_ids(idx)``.
        start_epoch: the first (0-indexed) re-sampled epoch. Default 80 (RSG's ImageNet-LT runs).
        beta: the effective-number hyper-parameter, in (0, 1). Default 0.9999 (the official value).
        num_samples: samples per epoch over all ranks (int), or ``'dataset'`` / None for ``len(dataset)``
            (official).
        seed: random seed shared by all ranks; a shared random seed when None.
    """

    def __init__(self, dataset: Dataset, start_epoch: int = 80, beta: float = 0.9999, num_samples: EpochLength = None,
                 seed: Optional[int] = None) -> None:
        if int(start_epoch) != start_epoch or start_epoch < 0:
            raise ValueError(f'start_epoch must be an integer >= 0, got {start_epoch!r}')
        self.start_epoch = int(start_epoch)
        super().__init__(dataset, seed=seed, num_samples=num_samples)
        weights = self.class_sizes * inverse_effective_number(self.class_sizes, beta).double().numpy()
        self.beta = float(beta)
        self.class_probs = weights / weights.sum()

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.epoch < self.start_epoch:
            return cycle_permutations(rng, np.arange(len(self.dataset)), size)
        return draw_by_class(rng, self.class_lists, self.class_probs, size)
