"""ClassAwareSampler and PowerSampler: per-class frequencies, determinism, DDP slices, empty classes."""
from collections import Counter
from typing import List, Sequence

import numpy as np
import pytest

import ltmm.cls  # noqa: F401  (registration)
from ltmm.cls.samplers import ClassAwareSampler, DeferredResampler, PowerSampler
from ltmm.cls.samplers import base as sampler_base


class LabelDataset:
    """The dataset surface the samplers use: ``len``, ``get_cat_ids`` and ``metainfo['classes']``."""

    def __init__(self, labels: Sequence[Sequence[int]], num_classes: int) -> None:
        self.labels = [list(ls) for ls in labels]
        self.metainfo = {'classes': [f'c{i}' for i in range(num_classes)]}

    def __len__(self) -> int:
        return len(self.labels)

    def get_cat_ids(self, idx: int) -> List[int]:
        return self.labels[idx]


def single_label(counts: Sequence[int]) -> LabelDataset:
    return LabelDataset([[c] for c, n in enumerate(counts) for _ in range(n)], len(counts))


def class_of(ds: LabelDataset, indices: Sequence[int]) -> np.ndarray:
    return np.array([ds.labels[i][0] for i in indices])


def test_class_aware_visits_every_class_equally_in_groups():
    ds = single_label([12, 5, 2, 1])
    sampler = ClassAwareSampler(ds, num_samples_cls=3, seed=0)
    assert len(sampler) == 12 * 4  # max count x C
    idx = list(sampler)
    labels = class_of(ds, idx)
    groups = labels.reshape(-1, 3)
    assert (groups == groups[:, :1]).all(), 'each class visit yields num_samples_cls samples of one class'
    visits = groups[:, 0]
    # classes are cycled: every pass over the 4 classes is a permutation of them
    for p in range(len(visits) // 4):
        assert sorted(visits[4 * p:4 * p + 4]) == [0, 1, 2, 3]
    assert Counter(labels.tolist()) == {0: 12, 1: 12, 2: 12, 3: 12}


def test_class_aware_reshuffles_each_class_list_when_exhausted():
    ds = single_label([3, 7])
    idx = np.array(list(ClassAwareSampler(ds, num_samples_cls=1, num_samples=40, seed=3)))
    small = idx[class_of(ds, idx) == 0]  # 20 draws of a 3-sample class
    members = [0, 1, 2]
    for p in range(len(small) // 3):
        assert sorted(small[3 * p:3 * p + 3]) == members, 'each pass over a class list is a permutation'
    passes = {tuple(small[3 * p:3 * p + 3]) for p in range(len(small) // 3)}
    assert len(passes) > 1, 'the class list is reshuffled between passes'


def test_class_aware_multilabel_lists_and_lengths():
    labels = [[0, 1], [0], [0, 2], [0], [1], [0, 1, 1]]
    ds = LabelDataset(labels, 3)  # image counts: 5, 3, 1
    sampler = ClassAwareSampler(ds, num_samples_cls=2, reduce=2, seed=1)
    assert len(sampler) == 5 * 3 // 2
    assert len(ClassAwareSampler(ds, num_samples='dataset', seed=1)) == 6
    assert len(ClassAwareSampler(ds, num_samples=11, seed=1)) == 11
    idx = np.array(list(ClassAwareSampler(ds, num_samples_cls=2, num_samples=60, seed=1))).reshape(-1, 2)
    shared = [set(labels[a]) & set(labels[b]) for a, b in idx]
    assert all(shared), 'both samples of a visit hold the visited class'
    # class 2 has a single image: it is drawn on 1/3 of the visits (10 of 30)
    assert sum(1 for a, b in idx if a == b == 2) == 10


def test_deterministic_and_epoch_dependent():
    ds = single_label([20, 9, 4, 2])
    for make in (lambda s: ClassAwareSampler(ds, seed=s), lambda s: PowerSampler(ds, seed=s)):
        a, b, c = make(5), make(5), make(6)
        assert list(a) == list(b)
        assert list(a) != list(c)
        first = list(a)
        a.set_epoch(1)
        assert list(a) != first
        b.set_epoch(1)
        assert list(a) == list(b)


@pytest.mark.parametrize('make', [lambda ds, n: ClassAwareSampler(ds, num_samples_cls=2, num_samples=n, seed=0),
                                  lambda ds, n: PowerSampler(ds, num_samples=n, seed=0),
                                  lambda ds, n: DeferredResampler(ds, start_epoch=3, num_samples=n, seed=0),
                                  lambda ds, n: DeferredResampler(ds, start_epoch=1, num_samples=n, seed=0)])
def test_ddp_ranks_get_disjoint_slices_of_one_epoch(monkeypatch, make):
    ds = single_label([10, 6, 3, 1])
    ranks = []
    for rank in range(2):
        monkeypatch.setattr(sampler_base, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = make(ds, 37)
        sampler.set_epoch(2)
        ranks.append(list(sampler))
    assert len(ranks[0]) == len(ranks[1]) == 19, 'same count on every rank, total rounded up to 38'
    # the two slices are the two halves of the epoch a single process draws for 38 samples
    monkeypatch.setattr(sampler_base, 'get_dist_info', lambda: (0, 1))
    single = make(ds, 38)
    single.set_epoch(2)
    assert ranks[0] + ranks[1] == list(single)
    assert ranks[0] != ranks[1]


def test_empty_class_is_skipped_with_warning(monkeypatch):
    ds = single_label([4, 0, 2])
    logged = []
    monkeypatch.setattr(sampler_base, 'print_log', lambda msg, **kw: logged.append((msg, kw.get('level'))))
    sampler = ClassAwareSampler(ds, num_samples_cls=1, seed=0)
    assert len(logged) == 1 and 'classes [1] have no sample' in logged[0][0] and logged[0][1] == 30
    assert sampler.class_ids.tolist() == [0, 2]
    assert len(sampler) == 4 * 2, 'C counts the non-empty classes'
    assert set(class_of(ds, list(sampler))) == {0, 2}
    power = PowerSampler(ds, q=0.0, seed=0)
    assert set(class_of(ds, list(power))) == {0, 2}


def test_all_empty_and_bad_arguments():
    with pytest.raises(ValueError, match='no labelled sample'):
        ClassAwareSampler(LabelDataset([[], []], 2), seed=0)
    ds = single_label([3, 1])
    with pytest.raises(ValueError, match='num_samples_cls'):
        ClassAwareSampler(ds, num_samples_cls=0, seed=0)
    with pytest.raises(ValueError, match='reduce'):
        ClassAwareSampler(ds, reduce=0, seed=0)
    with pytest.raises(ValueError, match='num_samples'):
        PowerSampler(ds, num_samples='epoch', seed=0)
    with pytest.raises(ValueError, match='outside'):
        ClassAwareSampler(LabelDataset([[0], [5]], 2), seed=0)
    with pytest.raises(TypeError, match='get_cat_ids'):
        ClassAwareSampler([1, 2, 3], seed=0)


@pytest.mark.parametrize('q', [0.0, 0.5, 1.0])
def test_power_sampler_class_frequencies(q):
    counts = np.array([400, 100, 25, 4])
    ds = single_label(counts)
    draws = 40000
    labels = class_of(ds, list(PowerSampler(ds, q=q, num_samples=draws, seed=0)))
    freq = np.bincount(labels, minlength=4) / draws
    expected = counts ** q / (counts ** q).sum()
    # 5 binomial standard deviations
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / draws) + 1e-9)
    assert len(PowerSampler(ds, seed=0)) == counts.sum(), 'default epoch = len(dataset)'


def test_power_sampler_draws_uniformly_within_a_class():
    ds = single_label([1, 5])
    idx = np.array(list(PowerSampler(ds, q=0.0, num_samples=20000, seed=1)))
    within = np.bincount(idx[idx >= 1] - 1, minlength=5) / (idx >= 1).sum()
    assert np.all(np.abs(within - 0.2) < 0.03)


def naive_rsg_drs(counts, beta=0.9999):
    """RSG's ImbalancedDatasetSampler: per-sample weight (1 - beta) / (1 - beta^n_y), then torch.multinomial over
    the samples; the probability of class c is the sum of its samples' weights over the total."""
    per_class = [(1.0 - beta) / (1.0 - beta ** n) for n in counts]
    per_sample = [per_class[c] for c, n in enumerate(counts) for _ in range(n)]
    total = sum(per_sample)
    return np.array([n * per_class[c] / total for c, n in enumerate(counts)])


def test_deferred_resampler_shuffles_then_resamples():
    counts = np.array([400, 100, 25, 4])
    ds = single_label(counts)
    sampler = DeferredResampler(ds, start_epoch=2, seed=0)
    assert len(sampler) == counts.sum(), 'default epoch = len(dataset), as the official N draws'
    for epoch in (0, 1):  # instance sampling: each sample exactly once
        sampler.set_epoch(epoch)
        assert sorted(sampler) == list(range(counts.sum()))
    draws = 40000
    sampler = DeferredResampler(ds, start_epoch=2, num_samples=draws, seed=0)
    sampler.set_epoch(2)
    freq = np.bincount(class_of(ds, list(sampler)), minlength=4) / draws
    expected = naive_rsg_drs(counts)
    torch_ref = sampler.class_probs
    np.testing.assert_allclose(torch_ref, expected, rtol=1e-6)
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / draws) + 1e-9)
    # with beta 0.9999 the weights are nearly 1 / n: the classes come out nearly balanced
    assert expected.max() / expected.min() < 1.05
    with pytest.raises(ValueError, match='start_epoch must be an integer >= 0, got -1'):
        DeferredResampler(ds, start_epoch=-1)
    with pytest.raises(ValueError, match='beta must be in'):
        DeferredResampler(ds, beta=1.0)


def test_registered_in_mmpretrain_only_next_to_mmdets_sampler():
    from mmdet.datasets.samplers import ClassAwareSampler as MMDetClassAwareSampler
    from mmdet.registry import DATA_SAMPLERS as MMDET_SAMPLERS
    from mmpretrain.registry import DATA_SAMPLERS as PRETRAIN_SAMPLERS
    ds = single_label([3, 1])
    sampler = PRETRAIN_SAMPLERS.build(dict(type='ClassAwareSampler', dataset=ds, num_samples_cls=1, seed=0))
    assert isinstance(sampler, ClassAwareSampler) and len(sampler) == 6
    assert isinstance(PRETRAIN_SAMPLERS.build(dict(type='PowerSampler', dataset=ds, seed=0)), PowerSampler)
    assert MMDET_SAMPLERS.get('ClassAwareSampler') is MMDetClassAwareSampler
