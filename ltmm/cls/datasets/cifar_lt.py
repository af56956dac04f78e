"""CIFAR-10-LT / CIFAR-100-LT, the protocol of Cao et al. (LDAM-DRW, NeurIPS 2019; kaidic/LDAM-DRW
``imbalance_cifar.py``), built at load from the CIFAR python archives on disk (never downloaded).

Training set: class ``i`` keeps ``n_i = int(n_max * (1 / IF) ** (i / (C - 1)))`` images, ``n_max = 50000 / C``
(500 for CIFAR-100, 5,000 for CIFAR-10; class 0 is the head). With ``np.random.seed(seed)`` (0) and, for each class in
label order, one shuffle of the indices of its images, the first ``n_i`` are kept, in class order, exactly as the
official code draws them. IF 100 gives 10,847 images for CIFAR-100 and 12,406 for CIFAR-10; the test set stays the
balanced original (10,000 images).

Archives (https://www.cs.toronto.edu/~kriz/cifar.html), unpacked under ``data_root``:
``cifar-100-python/{train,test,meta}`` or ``cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``.
"""
import os.path as osp
import pickle
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset

from ...core.long_tail import exponential_profile
from ...core.registry import register_into

# per number of classes: archive folder, train files, test files, meta file, label field, class-name field
_ARCHIVES = {
    10: ('cifar-10-batches-py', [f'data_batch_{i}' for i in range(1, 6)], ['test_batch'], 'batches.meta', 'labels',
         'label_names'),
    100: ('cifar-100-python', ['train'], ['test'], 'meta', 'fine_labels', 'fine_label_names'),
}


def _load_pickle(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f'CIFAR archive file {path} not found; unpack the python version of the archive '
                                '(https://www.cs.toronto.edu/~kriz/cifar.html) under data_root')
    with open(path, 'rb') as f:
        return pickle.load(f, encoding='latin1')


def load_cifar_archive(data_root: str, num_classes: int, split: str) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Read a CIFAR python archive.

    Args:
        data_root: folder holding ``cifar-10-batches-py`` or ``cifar-100-python``.
        num_classes: 10 or 100 (which archive).
        split: 'train' or 'test'.

    Returns:
        images ``(N, 32, 32, 3)`` uint8 RGB, labels ``(N,)`` int64, the class names.
    """
    if num_classes not in _ARCHIVES:
        raise ValueError(f'CIFAR-LT: num_classes must be 10 or 100, got {num_classes}')
    if split not in ('train', 'test'):
        raise ValueError(f"CIFAR-LT: split must be 'train' or 'test', got {split!r}")
    folder, train_files, test_files, meta_file, label_key, names_key = _ARCHIVES[num_classes]
    images, labels = [], []
    for name in train_files if split == 'train' else test_files:
        path = osp.join(data_root, folder, name)
        entry = _load_pickle(path)
        if 'data' not in entry or label_key not in entry:
            raise ValueError(f'{path}: a CIFAR-{num_classes} batch needs the fields "data" and "{label_key}"')
        data = np.asarray(entry['data'], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(entry[label_key]):
            raise ValueError(f'{path}: "data" must be (N, 3072) with one "{label_key}" entry per row, got '
                             f'{data.shape} and {len(entry[label_key])} labels')
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(entry[label_key], dtype=np.int64))
    meta_path = osp.join(data_root, folder, meta_file)
    classes = list(_load_pickle(meta_path).get(names_key, []))
    if len(classes) != num_classes:
        raise ValueError(f'{meta_path}: "{names_key}" must name {num_classes} classes, found {len(classes)}')
    label_array = np.concatenate(labels)
    if label_array.min() < 0 or label_array.max() >= num_classes:
        raise ValueError(f'{osp.join(data_root, folder)}: labels must lie in [0, {num_classes}), found '
                         f'{label_array.min()}..{label_array.max()}')
    return np.concatenate(images), label_array, classes


def long_tail_indices(labels: Sequence[int], num_classes: int, imbalance_factor: float,
                      seed: Optional[int] = 0) -> np.ndarray:
    """Indices of the CIFAR-LT training subset (LDAM-DRW's ``gen_imbalanced_data``), grouped by class.

    Args:
        labels: label of each image of the balanced training set.
        num_classes: ``C``; ``n_max = len(labels) / C``.
        imbalance_factor: ``IF = n_0 / n_{C-1}`` (>= 1; 1 keeps every image).
        seed: seed of ``np.random.RandomState``, drawn as the official global ``np.random.seed``; None keeps the
            first ``n_i`` images of each class in archive order, unshuffled (SHIKE's ``imbalanced_cifar.py``, whose
            shuffle is commented out).

    Raises:
        ValueError: the profile leaves a class without images (``IF > n_max``), or a class has fewer images than
            its profile asks for.
    """
    labels = np.asarray(labels)
    counts = exponential_profile(len(labels) / num_classes, num_classes, imbalance_factor)
    if counts[-1] < 1:
        raise ValueError(f'CIFAR-LT: imbalance factor {imbalance_factor:g} leaves class {counts.index(0)} without '
                         f'images (n_max = {len(labels) / num_classes:g}); use IF <= n_max')
    rng = None if seed is None else np.random.RandomState(seed)
    keep = []
    for c, n in enumerate(counts):
        idx = np.flatnonzero(labels == c)
        if len(idx) < n:
            raise ValueError(f'CIFAR-LT: class {c} has {len(idx)} images, fewer than the {n} of the profile')
        if rng is not None:
            rng.shuffle(idx)
        keep.append(idx[:n])
    return np.concatenate(keep)


@register_into('DATASETS', scopes=('mmpretrain',))
class CIFARLTDataset(BaseDataset):
    """CIFAR-10-LT / CIFAR-100-LT generated at load (see the module doc); each sample is ``img`` (32x32x3 RGB
    uint8) and ``gt_label``, for mmpretrain's CIFAR pipelines (no ``LoadImageFromFile``).

    Args:
        data_root: folder holding the unpacked archive.
        num_classes: 10 (CIFAR-10) or 100 (CIFAR-100).
        split: 'train' (long-tailed) or 'test' (balanced, 10,000 images).
        imbalance_factor: ``IF`` of the training profile (100; 1 for the balanced set). Ignored for 'test'.
        seed: seed of the per-class shuffles (0, as the official code); None for no shuffle (the first ``n_i``
            images of each class, SHIKE).
        expected_counts: optional per-class training counts to check the drawn subset against (the configs pass
            the counts their ``class_stats`` holds, so the two cannot drift apart).
        **kwargs: the other arguments of mmpretrain's ``BaseDataset`` (pipeline, test_mode, ...).
    """

    def __init__(self, data_root: str, num_classes: int = 100, split: str = 'train', imbalance_factor: float = 100.0,
                 seed: Optional[int] = 0, expected_counts: Optional[Sequence[int]] = None, **kwargs) -> None:
        if num_classes not in _ARCHIVES:
            raise ValueError(f'CIFARLTDataset: num_classes must be 10 or 100, got {num_classes}')
        if split not in ('train', 'test'):
            raise ValueError(f"CIFARLTDataset: split must be 'train' or 'test', got {split!r}")
        self.num_classes = num_classes
        self.split = split
        self.imbalance_factor = imbalance_factor
        self.seed = seed
        self.expected_counts = None if expected_counts is None else [int(n) for n in expected_counts]
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        images, labels, classes = load_cifar_archive(self.data_root, self.num_classes, self.split)
        if self.split == 'train':
            keep = long_tail_indices(labels, self.num_classes, self.imbalance_factor, self.seed)
            images, labels = images[keep], labels[keep]
            counts = np.bincount(labels, minlength=self.num_classes).tolist()
            if self.expected_counts is not None and counts != self.expected_counts:
                raise ValueError(f'CIFARLTDataset: drew {counts} images per class from {self.data_root} (IF '
                                 f'{self.imbalance_factor}), but expected_counts is {self.expected_counts}; the '
                                 'config\'s class_stats and its dataset disagree')
        self._metainfo['classes'] = tuple(classes)
        return [{'img': img, 'gt_label': int(label)} for img, label in zip(images, labels)]
