"""Multi-label long-tailed datasets: VOC-LT, COCO-MLT (Wu et al., "Distribution-Balanced Loss for Multi-Label
Classification in Long-Tailed Datasets", ECCV 2020) and the LT-Shapes multi-label view, plus the split generator.

All three read the same text list, one image a line, ``<image path> <label> [<label> ...]`` (0-based labels, the
path relative to ``data_prefix``), which ``tools/data/make_multilabel_lt.py`` writes for VOC-LT / COCO-MLT and
``make_lt_shapes`` writes under ``multilabel/``; ``ltmm.class_stats`` counts the same lists.

Split protocol (the DB-loss paper's ``create_longtail_dataset``, reimplemented):

1. reference counts: the Pareto pdf with shape ``b = 6`` at ``C`` points evenly spaced from its 0 to its 0.99
   quantile, mapped to ``[min, max]`` (``(max - min) * x^-(b+1) + min``) and rounded down;
2. classes are visited in decreasing order of ``sum_i P(j | i)``, the co-occurrence sum, not of raw frequency, and
   the k-th visited class gets the k-th reference count;
3. at each visit, images of that class are added (drawn from the source images holding it) or removed (drawn from
   the selected ones holding it) until it reaches its reference count; the other labels of those images come along.

The published splits (1,142 VOC-LT and 1,909 COCO-MLT training images) came from Python's ``random`` over sets,
whose order is not reproducible, so pass the published image-id lists to reproduce them exactly.
"""
import os
import random
import warnings
from typing import List, Sequence, Tuple

import numpy as np
from mmdet.datasets import CocoDataset
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.datasets.voc import VOC

from ..class_stats import read_label_list
from ..registry import register_into
from .lt_shapes import CLASSES as LT_SHAPES_CLASSES

def read_multilabel_list(path: str) -> List[Tuple[str, List[int]]]:
    """``<image path> <label> [<label> ...]`` lines (``ltmm.class_stats.read_label_list``), each image's labels
    sorted and de-duplicated."""
    return [(image, sorted(set(labels))) for image, labels in read_label_list(path)]


@register_into('DATASETS', scopes=('mmpretrain',))
class MultiLabelListDataset(MultiLabelDataset):
    """An mmpretrain ``MultiLabelDataset`` read from a ``<image path> <label> ...`` text list.

    Args are those of mmpretrain's ``MultiLabelDataset``: ``ann_file`` (the list, relative to ``data_root``),
    ``data_prefix`` (prepended to the image paths), ``classes`` / ``metainfo``, ``pipeline``, ``test_mode``...
    Labels must lie in ``[0, len(classes))``.
    """

    def load_data_list(self) -> List[dict]:
        classes = self.metainfo.get('classes')
        data_list = []
        for path, labels in read_multilabel_list(self.ann_file):
            if classes is not None and (labels[0] < 0 or labels[-1] >= len(classes)):
                raise ValueError(f'{self.ann_file}: image {path!r} has labels {labels}, outside the '
                                 f'{len(classes)} classes of {type(self).__name__}')
            data_list.append(dict(img_path=os.path.join(self.img_prefix, path), gt_label=labels))
        return data_list


@register_into('DATASETS', scopes=('mmpretrain',))
class VOCLTDataset(MultiLabelListDataset):
    """VOC-LT: 1,142 long-tailed VOC2012 trainval images (20 classes, 6 head / 6 medium / 8 tail), tested on VOC2007
    test. Lists from ``tools/data/make_multilabel_lt.py voc``."""
    METAINFO = {'classes': tuple(VOC.METAINFO['classes'])}


@register_into('DATASETS', scopes=('mmpretrain',))
class COCOMLTDataset(MultiLabelListDataset):
    """COCO-MLT: 1,909 long-tailed COCO2017 train images (80 classes, 22 head / 33 medium / 25 tail), tested on
    COCO2017 val. Not the detection "COCO-LT". Lists from ``tools/data/make_multilabel_lt.py coco``."""
    METAINFO = {'classes': tuple(CocoDataset.METAINFO['classes'])}


@register_into('DATASETS', scopes=('mmpretrain',))
class LTShapesMultiLabelDataset(MultiLabelListDataset):
    """The multi-label view of LT-Shapes (``multilabel/{train,val}.txt`` of ``make_lt_shapes``), 30 classes."""
    METAINFO = {'classes': LT_SHAPES_CLASSES}


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

