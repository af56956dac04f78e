"""Test-agnostic long-tailed evaluation (Zhang et al., SADE, NeurIPS 2022; the protocol of LADE, Hong et al.,
CVPR 2021): forward-long-tailed, uniform and backward-long-tailed test class distributions drawn from a balanced test
split.

With ``n_max`` test images per class, ``C`` classes, an imbalance ratio ``r`` and the classes ranked by training
frequency (rank 0 the most frequent), the split keeps

- forward: ``n_c = int(n_max * (1 / r) ** (rank_c / (C - 1)))`` images of class c (frequent classes stay frequent),
- backward: ``n_c = int(n_max * (1 / r) ** ((C - 1 - rank_c) / (C - 1)))`` (the order reversed),
- uniform: every image (``r = 1``).

The images are drawn as the official CIFAR-100 construction (Vanint/SADE-AgnosticLT ``data_loader/imbalance_cifar.py``
``IMBALANCECIFAR100(train=False, imb_factor=1 / r, reverse=...)``, built by ``test_training_cifar.py``'s
``TestAgnosticImbalanceCIFAR100DataLoader``): ``np.random.seed(0)``, then for each class in label order one shuffle of
the indices of its test images, of which the first ``n_c`` are kept; the split lists the classes in label order. On
CIFAR-100-LT the label order is the frequency order (class 0 is the head), so ranking by the training counts (ties by
class index) gives the official splits image for image.

ImageNet-LT, Places-LT and iNaturalist 2018: the official repository ships the splits as files
(``data_txt/ImageNet_LT/ImageNet_LT_{forward,backward}{2,5,10,25,50}.txt``, ``..._uniform.txt``). Read there, their
per-class counts follow the formula above with the classes ranked by training count (checked on the Places-LT files,
whose training list is shipped, for every ratio; ImageNet-LT's counts have the formula's values, e.g. 12,058 images at
ratio 50), but the images of each class are an unseeded random draw and classes of equal training count are
ordered arbitrarily, so this wrapper gives splits of the same shape, not the same images: evaluate on the shipped
files (``tools/analysis/test_agnostic.py --split-files``) to compare with the paper.

The official ratios are 2, 5, 10, 25 and 50 (ImageNet-LT, Places-LT, CIFAR-100-LT) and 2, 3 (iNaturalist 2018, 3 test
images per class). A ratio whose profile leaves a class without images (``int(n_max / r) = 0``) gives a split
without that class, as the official iNaturalist ``forward3``.
"""
import copy
import inspect
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmpretrain.registry import DATASETS

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.long_tail import exponential_profile
from ...core.registry import register_into

DISTRIBUTIONS = ('forward', 'uniform', 'backward')
RATIOS = (2, 3, 5, 10, 25, 50)  # 3: iNaturalist 2018's forward3 / backward3
DEFAULT_RATIOS = (2, 5, 10, 25, 50)  # ImageNet-LT, Places-LT, CIFAR-100-LT


def split_name(distribution: str, imbalance_ratio: Optional[int] = None) -> str:
    """``'uniform'``, ``'forward50'``, ``'backward2'``, ... (the official file suffixes)."""
    distribution, imbalance_ratio = check_split(distribution, imbalance_ratio)
    return 'uniform' if distribution == 'uniform' else f'{distribution}{imbalance_ratio}'


def parse_split_name(name: str) -> Tuple[str, int]:
    """``'forward50'`` -> ``('forward', 50)``, ``'uniform'`` -> ``('uniform', 1)``."""
    match = re.fullmatch(r'(forward|backward)(\d+)|uniform', name)
    if not match:
        raise ValueError(f'test-agnostic split name must be uniform, forward<ratio> or backward<ratio>, got {name!r}')
    return check_split(*(('uniform', 1) if name == 'uniform' else (match.group(1), int(match.group(2)))))


def split_names(ratios: Sequence[int] = DEFAULT_RATIOS) -> List[str]:
    """The official order of the splits: forward (largest ratio first), uniform, backward (smallest first)."""
    ratios = sorted({check_split('forward', r)[1] for r in ratios})
    return [f'forward{r}' for r in reversed(ratios)] + ['uniform'] + [f'backward{r}' for r in ratios]


def check_split(distribution: str, imbalance_ratio: Optional[int] = None) -> Tuple[str, int]:
    """``(distribution, ratio)`` checked: a distribution of :data:`DISTRIBUTIONS`, ratio 1 (or None) for uniform, one
    of :data:`RATIOS` otherwise.

    Raises:
        ValueError: naming the unknown distribution or ratio.
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f'test-agnostic distribution must be one of {DISTRIBUTIONS}, got {distribution!r}')
    if distribution == 'uniform':
        if imbalance_ratio not in (None, 1):
            raise ValueError(f'the uniform test distribution has imbalance_ratio 1, got {imbalance_ratio!r}')
        return distribution, 1
    if isinstance(imbalance_ratio, bool) or imbalance_ratio not in RATIOS:
        raise ValueError(f'test-agnostic imbalance_ratio of a {distribution} split must be one of {RATIOS} (SADE\'s '
                         f'and LADE\'s; 3 is iNaturalist\'s), got {imbalance_ratio!r}')
    return distribution, int(imbalance_ratio)


def frequency_rank(train_counts: Sequence[int]) -> np.ndarray:
    """Rank of each class by training count, 0 for the most frequent; ties by class index."""
    counts = np.asarray(train_counts)
    order = np.argsort(-counts, kind='stable')
    rank = np.empty(len(counts), dtype=np.int64)
    rank[order] = np.arange(len(counts))
    return rank


def agnostic_counts(max_count: int, num_classes: int, distribution: str, imbalance_ratio: Optional[int] = None,
                         class_rank: Optional[Sequence[int]] = None) -> np.ndarray:
    """Test images kept per class (C,) (see the module docstring).

    Args:
        max_count: ``n_max``, the test images of each class of the balanced split.
        num_classes: ``C``.
        distribution: 'forward', 'uniform' or 'backward'.
        imbalance_ratio: ``r`` (1 or None for uniform).
        class_rank: rank of each class by training frequency (0 the most frequent); None: the label order
            (CIFAR-LT's class 0 is its head).
    """
    distribution, ratio = check_split(distribution, imbalance_ratio)
    rank = np.arange(num_classes) if class_rank is None else np.asarray(class_rank, dtype=np.int64)
    if sorted(rank.tolist()) != list(range(num_classes)):
        raise ValueError(f'class_rank must be a permutation of 0..{num_classes - 1}')
    profile = np.asarray(exponential_profile(max_count, num_classes, ratio), dtype=np.int64)
    return profile[num_classes - 1 - rank] if distribution == 'backward' else profile[rank]


def agnostic_indices(labels: Sequence[int], num_classes: int, distribution: str,
                          imbalance_ratio: Optional[int] = None, class_rank: Optional[Sequence[int]] = None,
                          seed: int = 0) -> np.ndarray:
    """Indices (into ``labels``) of a test-agnostic split of a balanced test set, as the official CIFAR construction
    draws them (see the module docstring): per class in label order, one shuffle by ``np.random.RandomState(seed)``
    (the official global ``np.random.seed(0)``), the first ``n_c`` kept.

    Raises:
        ValueError: the source is not balanced (naming a class whose count differs), or a label outside
            ``[0, num_classes)``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f'test-agnostic splits need a non-empty list of labels, got shape {labels.shape}')
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'labels must lie in [0, {num_classes}), found {labels.min()}..{labels.max()}')
    per_class = np.bincount(labels, minlength=num_classes)
    odd = np.flatnonzero(per_class != per_class[0])
    if len(odd) or per_class[0] == 0:
        c = int(odd[0]) if len(odd) else 0
        raise ValueError(f'test-agnostic splits are drawn from a balanced test split, but class {c} has '
                         f'{per_class[c]} images and class 0 has {per_class[0]} (images per class: '
                         f'{per_class[:10].tolist()}{" ..." if num_classes > 10 else ""})')
    counts = agnostic_counts(int(per_class[0]), num_classes, distribution, imbalance_ratio, class_rank)
    rng = np.random.RandomState(seed)
    keep = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        keep.append(idx[:counts[c]])
    return np.concatenate(keep)


@register_into('DATASETS', scopes=('mmpretrain',))
class TestAgnosticDataset:
    """A forward / uniform / backward long-tailed test split of a balanced test dataset (see the module docstring).

    Args:
        dataset: the balanced test dataset, a config dict or a built dataset (e.g. ``CIFARLTDataset(split='test')``,
            an ImageNet-LT / Places-LT test list, a ``CustomDataset``).
        distribution: 'forward', 'uniform' or 'backward'. Default 'uniform'.
        imbalance_ratio: ``r``: 2, 5, 10, 25 or 50 (3 for iNaturalist) for forward / backward, 1 or None for
            uniform. Default None.
        class_stats: training class counts (:mod:`ltmm.core.class_stats`) to rank the classes by (ties by class
            index); None ranks by label order (CIFAR-LT, whose class 0 is the head). Default None.
        seed: seed of the per-class shuffles. Default 0 (the official ``rand_number=0``).
        lazy_init: defer reading the source dataset to ``full_init`` (mmengine's dataset convention). Default False.

    Attributes (after ``full_init``):
        indices: the kept indices of ``dataset``.
        class_counts: (C,) test images per class of the split (e.g. a known target prior for LADE).
    """
    __test__ = False  # not a pytest test class

    def __init__(self, dataset: Union[dict, object], distribution: str = 'uniform',
                 imbalance_ratio: Optional[int] = None, class_stats: Optional[ClassStatsLike] = None, seed: int = 0,
                 lazy_init: bool = False) -> None:
        self.distribution, self.imbalance_ratio = check_split(distribution, imbalance_ratio)
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.class_stats = class_stats
        self.seed = seed
        self.indices: Optional[np.ndarray] = None
        self.class_counts: Optional[np.ndarray] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def name(self) -> str:
        """The split's name, e.g. ``'forward50'``."""
        return split_name(self.distribution, self.imbalance_ratio)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def _num_classes(self, labels: np.ndarray, train_counts: Optional[np.ndarray]) -> int:
        classes = self.dataset.metainfo.get('classes')
        num_classes = len(classes) if classes else None
        if train_counts is not None:
            if num_classes is not None and num_classes != len(train_counts):
                raise ValueError(f'TestAgnosticDataset: the dataset has {num_classes} classes but class_stats has '
                                 f'{len(train_counts)}')
            num_classes = len(train_counts)
        return int(labels.max()) + 1 if num_classes is None else num_classes

    def full_init(self) -> None:
        """Read the source dataset's labels and draw the split."""
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        labels = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        train_counts = None
        if self.class_stats is not None:
            train_counts = load_class_stats(self.class_stats, allow_zero=True).image_count
        num_classes = self._num_classes(labels, train_counts)
        rank = None if train_counts is None else frequency_rank(train_counts)
        try:
            self.indices = agnostic_indices(labels, num_classes, self.distribution, self.imbalance_ratio, rank,
                                                 self.seed)
        except ValueError as e:
            raise ValueError(f'TestAgnosticDataset({self.name}) of {type(self.dataset).__name__}: {e}') from e
        self.class_counts = np.bincount(labels[self.indices], minlength=num_classes)
        self._labels = labels
        self._fully_initialized = True

    def _check_init(self) -> None:
        if not self._fully_initialized:
            self.full_init()

    def __len__(self) -> int:
        self._check_init()
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        self._check_init()
        return self.dataset[int(self.indices[idx])]

    def get_data_info(self, idx: int) -> dict:
        self._check_init()
        return self.dataset.get_data_info(int(self.indices[idx]))

    def get_gt_labels(self) -> np.ndarray:
        self._check_init()
        return self._labels[self.indices]

    def get_cat_ids(self, idx: int) -> List[int]:
        self._check_init()
        return [int(self._labels[self.indices[idx]])]

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.name}, {len(self) if self._fully_initialized else "?"} images)'


def accepts_argument(dataset_type: Union[str, type], name: str) -> bool:
    """Whether the dataset class (registry name or class) takes the keyword ``name``."""
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    return cls is not None and name in inspect.signature(cls).parameters


def agnostic_dataset_cfg(dataset: dict, split: str, class_stats: Optional[ClassStatsLike] = None,
                              seed: int = 0, split_file: Optional[str] = None) -> Dict:
    """The dataset config of one test-agnostic split of a (balanced) test dataset config.

    Args:
        dataset: the test dataset config (``cfg.test_dataloader.dataset``).
        split: 'uniform', 'forward<r>' or 'backward<r>'.
        class_stats: training counts to rank the classes by (see :class:`TestAgnosticDataset`).
        seed: seed of the draw.
        split_file: a pattern with ``{split}``, e.g. ``data/imagenet/ImageNet_LT/ImageNet_LT_{split}.txt``: read the
            split from that annotation file instead (the official ImageNet-LT / Places-LT / iNaturalist files; the
            ltmm list datasets' split checks are turned off for it). None: draw it with :class:`TestAgnosticDataset`.
    """
    distribution, ratio = parse_split_name(split)
    if split_file is None:
        return dict(type='TestAgnosticDataset', dataset=copy.deepcopy(dataset), distribution=distribution,
                    imbalance_ratio=ratio, class_stats=class_stats, seed=seed)
    if '{split}' not in split_file:
        raise ValueError(f'split_file must contain {{split}} (e.g. ImageNet_LT_{{split}}.txt), got {split_file!r}')
    dataset = copy.deepcopy(dataset)
    dataset['ann_file'] = split_file.format(split=split)
    if accepts_argument(dataset['type'], 'verify'):
        dataset['verify'] = False
    return dataset
