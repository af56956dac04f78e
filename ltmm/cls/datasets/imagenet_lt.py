"""ImageNet-LT and Places-LT (Liu et al., "Large-Scale Long-Tailed Recognition in an Open World", OLTR, CVPR 2019)
from their published split files, checked at load against the published sizes.

The split files ``ImageNet_LT_{train,val,test}.txt`` / ``Places_LT_{train,val,test}.txt`` (OLTR's and
classifier-balancing's ``data/`` folders) hold one image a line, ``<path> <label>``, the path relative to the
ImageNet-2012 / Places365 root, e.g. ``train/n01440764/n01440764_762.JPEG 0``. Published sizes:

============  ==========  =============  ==================  =======
benchmark     train       val            test                classes
============  ==========  =============  ==================  =======
ImageNet-LT   115,846     20,000 (20/c)  50,000 (50/c)       1,000
Places-LT     62,500      7,300 (20/c)   36,500 (100/c)      365
============  ==========  =============  ==================  =======

A truncated download, a file of the wrong benchmark or split, or a list of another label space fails at load with
an error naming the file, the expected and the found counts; so does a file the split manifest knows as another split
or one changed since ``tools/data/verify_splits.py`` recorded it (``ltmm.core.split_manifest``); a list that only
differs from the published bytes is a warning. ``verify=False`` accepts a custom list.
"""
from typing import Dict, List, Optional, Sequence

from mmengine.fileio import get_file_backend, list_from_file
from mmpretrain.datasets import CustomDataset
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from ...core.class_stats import parse_label_lines
from ...core.registry import register_into
from ...core.split_manifest import check_split_file, count_problems, size_problem

VERIFY_HINT = 'pass verify=False to load a custom list'


def verify_split(source: str, benchmark: str, split: str, labels: Sequence[int], num_classes: int,
                 expected_total: int, per_class: Optional[int] = None) -> None:
    """Check a split's labels against its published size.

    Args:
        source: the annotation file (for the messages).
        benchmark: benchmark name (for the messages).
        split: split name (for the messages).
        labels: the label of each image, in ``[0, num_classes)`` (the caller checks the range).
        num_classes: classes of the benchmark; every one must occur.
        expected_total: published number of images of the split.
        per_class: published images per class of a balanced split (val / test), None for the long-tailed train.

    Raises:
        ValueError: naming the file, the expected and the found counts.
    """
    problems = (size_problem(source, benchmark, split, expected_total, len(labels))
                or count_problems(source, benchmark, split, labels, num_classes, per_class))
    if problems:
        raise ValueError(f'{problems[0].message} ({VERIFY_HINT})')


class _LTListDataset(CustomDataset):
    """A ``<path> <label>`` list of a published long-tailed benchmark, verified at load.

    Subclasses set ``benchmark``, ``manifest_key`` (its entry in the split manifest), ``split_sizes`` (split -> number
    of images), ``per_class`` (split -> images per class of the balanced splits) and ``METAINFO`` (the class names).

    Args:
        ann_file: the split file, relative to ``data_root`` unless absolute.
        split: 'train', 'val' or 'test': which published size to check.
        verify: check the line count, the class count (and the per-class count of val / test) against the
            published split, then the file against the split manifest and the user's record
            (``ltmm.core.split_manifest.check_split_file``); False for a custom list, whose labels must still index
            the classes.
        data_root: root of the images (the ImageNet-2012 / Places365 folder).
        data_prefix: prefix joined between ``data_root`` and each listed path ('' for the published files).
        **kwargs: the other arguments of mmpretrain's ``CustomDataset`` (pipeline, classes, test_mode, ...).
    """
    benchmark: str = ''
    manifest_key: str = ''
    split_sizes: Dict[str, int] = {}
    per_class: Dict[str, int] = {}

    def __init__(self, ann_file: str, split: str, verify: bool = True, data_root: str = '', data_prefix: str = '',
                 **kwargs) -> None:
        if split not in self.split_sizes:
            raise ValueError(f'{type(self).__name__}: split must be one of {sorted(self.split_sizes)}, got {split!r}')
        if not ann_file:
            raise ValueError(f'{type(self).__name__}: ann_file (the {self.benchmark} {split} list) is required')
        self.split = split
        self.verify = verify
        super().__init__(data_root=data_root, data_prefix=data_prefix, ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        backend = get_file_backend(self.img_prefix, enable_singleton=True)
        num_classes = len(self.metainfo['classes'])
        items = parse_label_lines(list_from_file(self.ann_file), self.ann_file)
        for lineno, (path, labels) in enumerate(items, 1):
            if len(labels) != 1 or not 0 <= labels[0] < num_classes:
                raise ValueError(f'{self.ann_file}: entry {lineno} ({path!r}): expected one label in '
                                 f'[0, {num_classes}), got {labels}')
        labels = [label for _, (label,) in items]
        if self.verify:
            verify_split(self.ann_file, self.benchmark, self.split, labels, num_classes, self.split_sizes[self.split],
                         self.per_class.get(self.split))
            check_split_file(self.ann_file, self.manifest_key, self.split, parsed=([p for p, _ in items], labels),
                             hint=VERIFY_HINT)
        return [{'img_path': backend.join_path(self.img_prefix, path), 'gt_label': label}
                for (path, _), label in zip(items, labels)]


@register_into('DATASETS', scopes=('mmpretrain',))
class ImageNetLTDataset(_LTListDataset):
    """ImageNet-LT: 1,000 ImageNet classes, 115,846 train / 20,000 val / 50,000 test images (see the module doc).

    Labels follow the sorted-WordNet-id order of ImageNet-2012 (n01440764 -> 0), so the class names are
    mmpretrain's ``IMAGENET_CATEGORIES``.
    """
    benchmark = 'ImageNet-LT'
    manifest_key = 'imagenet_lt'
    split_sizes = {'train': 115846, 'val': 20000, 'test': 50000}
    per_class = {'val': 20, 'test': 50}
    METAINFO = {'classes': IMAGENET_CATEGORIES}


@register_into('DATASETS', scopes=('mmpretrain',))
class PlacesLTDataset(_LTListDataset):
    """Places-LT: 365 Places365 classes, 62,500 train / 7,300 val / 36,500 test images (see the module doc).

    The split files carry no class names, so classes are named by their label ('0' ... '364').
    """
    benchmark = 'Places-LT'
    manifest_key = 'places_lt'
    split_sizes = {'train': 62500, 'val': 7300, 'test': 36500}
    per_class = {'val': 20, 'test': 100}
    METAINFO = {'classes': tuple(str(i) for i in range(365))}
