"""Per-class training statistics: the one source of truth every long-tail method reads.

Every ltmm module that needs class frequencies takes one argument, ``class_stats``, which is

- a dict ``{"num_images": int, "image_count": [C ints], "instance_count": [C ints]}`` (optionally ``"classes"``), or
- a path to such a JSON file (written by ``tools/data/class_stats.py``), or
- a path to an annotation file ltmm can count:

  * LVIS / COCO json (``images``, ``annotations``, ``categories``); classes are ordered by category id, as mmdet's
    ``CocoDataset`` / ``LVISV1Dataset`` map them to labels;
  * an OpenMMLab 2.0 json (``{"metainfo": {"classes": [...]}, "data_list": [{"gt_label": ...}]}``);
  * a text list, one image a line: ``<path> <label>`` (ImageNet-LT / Places-LT / iNat style) or
    ``<path> <label> <label> ...`` (multi-label). Paths may contain spaces; labels are the trailing integers.

``image_count[c]`` is the number of training images that contain class ``c``; ``instance_count[c]`` the number of
instances (annotations, or label occurrences) of ``c``. For single-label data both are the per-class image count.

A file is parsed once per process: loading it again (from the loss, the metric, another loss) returns the same
read-only statistics, until the file changes (the cache is keyed on path, modification time and size).
:meth:`ClassStats.save` is the one writer of class_stats JSON files.
"""
import functools
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

ClassStatsLike = Union['ClassStats', Mapping[str, Any], str, os.PathLike]

__all__ = ['ClassStats', 'ClassStatsLike', 'load_class_stats', 'count_class_stats', 'count_detection_stats',
           'parse_label_lines', 'read_label_list']


@dataclass(frozen=True)
class ClassStats:
    """Training-set counts of ``C`` classes.

    Attributes:
        num_images: number of training images (for a detection json: images with at least one annotation).
        image_count: ``(C,)`` images containing each class (int64, read-only: the object may be shared).
        instance_count: ``(C,)`` instances of each class (int64, read-only).
        classes: class names, or None when the source has none.
        source: where the statistics came from (a path or ``'<dict>'``), used in error messages.
    """
    num_images: int
    image_count: np.ndarray
    instance_count: np.ndarray
    classes: Optional[Tuple[str, ...]] = None
    source: str = '<dict>'

    def __post_init__(self) -> None:
        for name in ('image_count', 'instance_count'):
            counts = np.array(getattr(self, name), dtype=np.int64)
            counts.flags.writeable = False
            object.__setattr__(self, name, counts)
        if self.classes is not None:
            object.__setattr__(self, 'classes', tuple(str(c) for c in self.classes))

    @property
    def num_classes(self) -> int:
        return len(self.image_count)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            'num_images': int(self.num_images),
            'image_count': [int(x) for x in self.image_count],
            'instance_count': [int(x) for x in self.instance_count],
        }
        if self.classes is not None:
            out['classes'] = list(self.classes)
        return out

    def save(self, path: Union[str, os.PathLike]) -> str:
        """Write the statistics as a class_stats JSON file (folders are created); returns the path."""
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f, indent=1)
        return path

    def check(self, num_classes: Optional[int] = None, allow_zero: bool = False) -> 'ClassStats':
        """Validate against a model's ``num_classes``; reject empty classes unless the method defines them.

        Raises:
            ValueError: naming the source and the offending class index (and name).
        """
        if num_classes is not None and num_classes != self.num_classes:
            raise ValueError(f'class_stats from {self.source} has {self.num_classes} classes but num_classes='
                             f'{num_classes}; the statistics must describe the same label space as the model')
        if not allow_zero:
            empty = np.flatnonzero(self.image_count == 0)
            if len(empty):
                names = '' if self.classes is None else f' ({", ".join(self.classes[i] for i in empty[:5])})'
                raise ValueError(f'class_stats from {self.source}: class index {", ".join(map(str, empty[:5]))}'
                                 f'{names} has no training image; this method needs every class to be present')
        return self


def _as_counts(values: Any, name: str, source: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.number)):
        raise ValueError(f'class_stats from {source}: field "{name}" must be a list of counts')
    if arr.size and (np.any(arr < 0) or np.any(arr != np.round(arr))):
        raise ValueError(f'class_stats from {source}: field "{name}" must hold non-negative integers')
    return arr.astype(np.int64)


def _from_mapping(data: Mapping[str, Any], source: str) -> ClassStats:
    missing = [k for k in ('num_images', 'image_count', 'instance_count') if k not in data]
    if missing:
        raise ValueError(f'class_stats from {source}: missing field(s) {missing}; expected '
                         '{"num_images", "image_count", "instance_count"[, "classes"]}')
    image_count = _as_counts(data['image_count'], 'image_count', source)
    instance_count = _as_counts(data['instance_count'], 'instance_count', source)
    if len(image_count) != len(instance_count):
        raise ValueError(f'class_stats from {source}: "image_count" has {len(image_count)} entries but '
                         f'"instance_count" has {len(instance_count)}')
    classes = data.get('classes')
    if classes is not None and len(classes) != len(image_count):
        raise ValueError(f'class_stats from {source}: "classes" has {len(classes)} names but "image_count" has '
                         f'{len(image_count)} entries')
    return ClassStats(int(data['num_images']), image_count, instance_count,
                      None if classes is None else [str(c) for c in classes], source)


def count_detection_stats(data: Mapping[str, Any], source: str = '<dict>') -> ClassStats:
    """Count a loaded COCO / LVIS annotation dict: classes ordered by category id; counts come from the
    annotations, never from the ``image_count`` field of LVIS categories (which, in the *val* json, still describes
    the training set). ``num_images`` counts the images with at least one annotation."""
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{source}: COCO/LVIS annotation file has no "{key}" field')
    cats = sorted(data['categories'], key=lambda c: c['id'])
    index = {c['id']: i for i, c in enumerate(cats)}
    image_ids = {img['id'] for img in data['images']}
    image_sets: List[set] = [set() for _ in cats]
    instance_count = np.zeros(len(cats), dtype=np.int64)
    for ann in data['annotations']:
        cat = ann.get('category_id')
        if cat not in index:
            raise ValueError(f'{source}: annotation {ann.get("id")} has unknown category_id {cat!r} '
                             f'(not among the {len(cats)} categories)')
        if ann.get('image_id') not in image_ids:
            raise ValueError(f'{source}: annotation {ann.get("id")} refers to unknown image_id '
                             f'{ann.get("image_id")!r}')
        image_sets[index[cat]].add(ann['image_id'])
        instance_count[index[cat]] += 1
    image_count = np.array([len(s) for s in image_sets], dtype=np.int64)
    # mmdet trains only on images with annotations (filter_empty_gt); EQL's frequencies divide by the same number
    # (99,388 of LVIS v1's 100,170 training images)
    num_annotated = len({ann['image_id'] for ann in data['annotations']})
    return ClassStats(num_annotated, image_count, instance_count, [c['name'] for c in cats], source)


def _count_label_lists(labels_per_image: Sequence[Sequence[int]], num_classes: Optional[int],
                       classes: Optional[List[str]], source: str) -> ClassStats:
    max_label = max((max(ls) for ls in labels_per_image if len(ls)), default=-1)
    if classes is not None and num_classes is not None and num_classes != len(classes):
        raise ValueError(f'{source} names {len(classes)} classes but num_classes={num_classes}')
    if num_classes is None:
        num_classes = len(classes) if classes is not None else max_label + 1
    image_count = np.zeros(num_classes, dtype=np.int64)
    instance_count = np.zeros(num_classes, dtype=np.int64)
    for i, labels in enumerate(labels_per_image):
        for label in labels:
            if not 0 <= label < num_classes:
                raise ValueError(f'{source}: entry {i} has label {label}, outside [0, {num_classes})')
            instance_count[label] += 1
        for label in set(labels):
            image_count[label] += 1
    return ClassStats(len(labels_per_image), image_count, instance_count, classes, source)


def parse_label_lines(lines: Iterable[str], source: str,
                      allow_unlabelled: bool = False) -> List[Tuple[str, List[int]]]:
    """Parse ``<path> <label> [<label> ...]`` lines: the labels are the trailing integers (in file order), so paths
    may contain spaces; blank lines are skipped. The one parser of this format: class statistics and every list
    dataset (ImageNet-LT, Places-LT, VOC-LT, COCO-MLT) read through it.

    Args:
        lines: the lines of the list.
        source: the file they come from, for the error messages.
        allow_unlabelled: accept a line with a path and no label (a multi-label test image without any positive
            class, e.g. the 48 unannotated images of COCO2017 val); a path whose last word is an integer then
            needs a label.

    Raises:
        ValueError: a line without label (unless ``allow_unlabelled``), naming the file and line.
    """
    items: List[Tuple[str, List[int]]] = []
    for lineno, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        labels: List[int] = []
        while len(parts) > 1 and _is_int(parts[-1]):
            labels.append(int(parts.pop()))
        if not labels and not allow_unlabelled:
            raise ValueError(f'{source}:{lineno}: expected "<path> <label> [<label> ...]", got {line.strip()!r}')
        items.append((' '.join(parts), labels[::-1]))
    return items


def read_label_list(path: str, allow_unlabelled: bool = False) -> List[Tuple[str, List[int]]]:
    """:func:`parse_label_lines` of a local file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line without label (unless ``allow_unlabelled``), naming the file and line.
    """
    with open(path, encoding='utf-8') as f:
        return parse_label_lines(f, path, allow_unlabelled)


def _parse_list_file(path: str, num_classes: Optional[int]) -> ClassStats:
    labels_per_image = [labels for _, labels in read_label_list(path)]
    if not labels_per_image:
        raise ValueError(f'{path}: the list is empty')
    return _count_label_lists(labels_per_image, num_classes, None, path)


def _is_int(token: str) -> bool:
    return token.lstrip('-').isdigit()


def count_class_stats(path: Union[str, os.PathLike], num_classes: Optional[int] = None) -> ClassStats:
    """Count per-class statistics from an annotation file (LVIS/COCO json, OpenMMLab json or a text list), parsed
    once per process (see the module docstring).

    Args:
        path: the annotation file.
        num_classes: size of the label space for label lists; classes above the largest label seen are counted as
            zero. Inferred from the file when None.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'class_stats: no such file {path!r}')
    stat = os.stat(path)
    return _count_file(os.path.abspath(path), path, stat.st_mtime_ns, stat.st_size, num_classes)


@functools.lru_cache(maxsize=64)
def _count_file(key: str, path: str, mtime_ns: int, size: int, num_classes: Optional[int]) -> ClassStats:
    """The cached parse behind :func:`count_class_stats`; ``key`` (the absolute path), ``mtime_ns`` and ``size``
    only key the cache, ``path`` names the file in messages."""
    if not path.endswith('.json'):
        return _parse_list_file(path, num_classes)
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from e
    if isinstance(data, dict) and 'annotations' in data:
        return count_detection_stats(data, path)
    if isinstance(data, dict) and 'data_list' in data:
        classes = data.get('metainfo', {}).get('classes')
        labels = []
        for i, item in enumerate(data['data_list']):
            if 'gt_label' not in item:
                raise ValueError(f'{path}: data_list entry {i} has no "gt_label"')
            gt = item['gt_label']
            labels.append([int(gt)] if isinstance(gt, (int, np.integer)) else [int(x) for x in gt])
        return _count_label_lists(labels, num_classes, None if classes is None else list(classes), path)
    if isinstance(data, dict):
        return _from_mapping(data, path)
    raise ValueError(f'{path}: not a class_stats, COCO/LVIS or OpenMMLab annotation json')


def load_class_stats(class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                     allow_zero: bool = False) -> ClassStats:
    """Resolve ``class_stats`` (dict, :class:`ClassStats` or path) and validate it.

    Args:
        class_stats: see the module docstring.
        num_classes: when given, the statistics must have exactly this many classes.
        allow_zero: accept classes with no training image (only where the method defines them).

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: malformed content, a length that differs from ``num_classes`` or an empty class.
    """
    if isinstance(class_stats, ClassStats):
        stats = class_stats
    elif isinstance(class_stats, Mapping):
        stats = _from_mapping(class_stats, '<dict>')
    elif isinstance(class_stats, (str, os.PathLike)):
        stats = count_class_stats(class_stats, num_classes)
    else:
        raise TypeError(f'class_stats must be a dict or a path, got {type(class_stats).__name__}')
    return stats.check(num_classes, allow_zero)
