"""A second, re-balanced sample stream beside the instance stream: each index of mmengine's ``DefaultSampler`` is
paired with a partner index drawn with per-sample probability ``p_j ∝ n_{y_j}^(-q)``, for the methods that mix or
contrast an instance-sampled batch with a re-sampled one (GLMC, Du et al., CVPR 2023; BBN's reversed sampler is
the same stream at another ``q``). :class:`~ltmm.cls.datasets.PairedDataset` loads the pairs.

How it maps onto GLMC's official two loaders (ynu-yangpeng/GLMC@2c0261cc ``main.py`` ``main_worker``,
``Trainer.py`` ``train``): the official instance loader shuffles the training set; the "weighted" loader draws N
indices with replacement (``WeightedRandomSampler``, per-sample weight ``n_y^(-q)``) over the same set, with the same
batch size, and its iterator is re-created every epoch. Both loaders give ``ceil(N / B)`` batches of the same sizes,
so step ``k`` pairs the instance batch ``k`` with the ``k``-th block of weighted draws: position ``p`` of the epoch
gets instance ``perm[p]`` and partner draw ``p``, independent of it. Here position ``p`` gets the ``p``-th index of
``DefaultSampler`` and the ``p``-th of ``total_size`` i.i.d. draws, re-drawn every epoch from ``(seed, epoch)``:
the same joint distribution, and reproducible.

Distributed: the whole epoch's draws are made identically on every rank and dealt with the instance indices
(``rank::world_size``, as ``DefaultSampler`` deals its permutation), so the ranks' partners are disjoint parts of
one i.i.d. stream (no rank draws the same sequence) and every rank runs the same number of steps. The official runs
used ``nn.DataParallel`` (one process, one stream).
"""
from typing import Iterator, Optional, Tuple

import numpy as np
from mmengine.dataset import DefaultSampler
from torch.utils.data import Dataset

from ...core.registry import register_into


def single_labels(dataset: Dataset) -> np.ndarray:
    """The class of each sample (``dataset.get_cat_ids(i)``), shape (N,).

    Raises:
        TypeError: the dataset has no ``get_cat_ids``.
        ValueError: a sample without exactly one class (the partner weights are per-class, single-label).
    """
    if not hasattr(dataset, 'get_cat_ids'):
        raise TypeError(f'{type(dataset).__name__} has no get_cat_ids(idx); PartnerSampler weighs each sample by '
                        'the training count of its class')
    labels = np.empty(len(dataset), dtype=np.int64)
    for i in range(len(dataset)):
        cats = sorted({int(c) for c in np.atleast_1d(dataset.get_cat_ids(i))})
        if len(cats) != 1:
            raise ValueError(f'PartnerSampler needs single-label data; sample {i} of {type(dataset).__name__} has '
                             f'classes {cats}')
        labels[i] = cats[0]
    if len(labels) and labels.min() < 0:
        raise ValueError(f'PartnerSampler: sample {int(np.argmin(labels))} has a negative class {labels.min()}')
    return labels


def partner_probabilities(labels: np.ndarray, q: float) -> np.ndarray:
    """Per-sample draw probabilities ``p_j = n_{y_j}^(-q) / sum_i n_{y_i}^(-q)`` (float64, sum 1), ``n_c`` the
    number of samples of class ``c`` in ``labels``; class ``c`` is drawn with probability ``∝ n_c^(1-q)``.

    ``q = 0``: instance sampling; ``q = 1``: class-balanced; ``q = 2``: BBN's reversed sampler.
    """
    counts = np.bincount(labels).astype(np.float64)
    weights = counts[labels] ** -float(q)
    return weights / weights.sum()


@register_into('DATA_SAMPLERS', scopes=('mmpretrain',))
class PartnerSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` yielding ``(index, partner)`` pairs, the partner drawn i.i.d. with replacement
    with per-sample probability ``∝ n_{y_partner}^(-q)`` (see the module docstring for the official loaders it
    replaces). Use it with :class:`~ltmm.cls.datasets.PairedDataset`, which loads both samples of a pair; the pairs
    are tuples, so a plain dataset cannot take them.

    Args:
        dataset: a single-label dataset with ``get_cat_ids(idx)`` (``PairedDataset`` forwards it).
        q: the power of the per-sample weight ``n_y^(-q)``. Default 0.0, partners drawn like instances. GLMC's
            ``main.py`` flag ``--resample_weighting`` defaults to 0.2; its README commands use 0.0 on CIFAR-100-LT
            IF100 and CIFAR-10-LT IF100/IF50, 0.2 elsewhere (ImageNet-LT, iNaturalist 2018, CIFAR IF10).
        shuffle: shuffle the instance order (``DefaultSampler``). Default True.
        seed: the seed of both streams, shared by all ranks (mmengine's runner passes the config's seed); a
            shared random seed when None.
        round_up: pad the epoch to a multiple of the world size (``DefaultSampler``). Default True.
    """

    def __init__(self, dataset: Dataset, q: float = 0.0, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if not np.isfinite(q):
            raise ValueError(f'PartnerSampler: q must be a finite number, got {q!r}')
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)
        self.q = float(q)
        self.partner_probs = partner_probabilities(single_labels(dataset), self.q)

    def draw_partners(self, epoch: int) -> np.ndarray:
        """The partners of every position of ``epoch`` over all ranks, shape (total_size,)."""
        rng = np.random.default_rng([self.seed % (1 << 64), epoch])  # a negative seed too
        return rng.choice(len(self.partner_probs), size=self.total_size, p=self.partner_probs)

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        indices = list(super().__iter__())
        partners = self.draw_partners(self.epoch)[self.rank:self.total_size:self.world_size]
        return iter(zip(indices, partners.tolist()))
