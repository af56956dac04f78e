"""Per-class box-centre fractal dimension: how uniformly a class's objects spread over the image, computed from the
training annotations only (FRACAL's spatial statistic; Alexandridis et al., "Fractal Calibration for long-tailed
object detection", CVPR 2025).

The box-counting dimension ``D_c`` of the normalised box centres of class ``c``, as kostas1515/FRACAL@3543fe4
computes it in ``stat_files/get_statistics.py`` (normalised boxes) and ``stat_files/calculate_fractality.py``
(``--variant box_dim``, ``--dims 64``):

- a box ``[x, y, w, h]`` of an image ``W x H`` has the centre ``cx = x / W + (w / W) / 2`` and
  ``cy = y / H + (h / H) / 2`` (get_statistics.py l.28-43, calculate_fractality.py l.42-43);
- for every grid size ``d = 1 .. max_grid``, ``N_c(d)`` is the number of the ``d x d`` cells
  ``[i s, (i + 1) s) x [j s, (j + 1) s)``, ``s = 1 / d``, that hold a centre of ``c`` (l.49-66; a centre outside
  ``[0, 1)`` lies in no cell);
- ``D_c`` is the slope of the least-squares line ``ln N_c(d) = D_c ln d + A`` over the grid sizes with
  ``n_c >= d^2``, ``n_c`` the number of boxes of ``c`` (l.86-101; ``scipy.optimize.curve_fit`` of a line);
- ``D_c = 1`` when ``n_c < 4`` or when the slope is below 1 (l.90-100). So ``D_c`` lies in ``[1, 2]`` in practice.

Deviations from the official scripts (no computed dimension changes beyond float rounding):
- computed in memory from the annotation json; the official scripts pass the normalised boxes through a CSV file;
- each cell is found with one sorted search over the official cell edges ``i * (1 / d)`` (the same float64 edges,
  so a centre on an edge falls in the same cell) instead of a mask per cell: ``O(d_max N log N)`` instead of
  ``O(d_max^3 N)``;
- the line is fitted in closed form (the official ``curve_fit`` iterates to the same least-squares solution);
- a class without any box is an error unless ``allow_empty`` (the official script gives it ``D = 1``): FRACAL's
  frequency term is undefined for it anyway;
- classes are ordered by category id and indexed in that order (mmdet's label order), not by ``id - 1``, so
  non-contiguous ids work.

The result is written as a JSON file (``tools/analysis/fractal_dimension.py``) that ``FRACALCalibration`` reads:
``{"fractal_dimension": [C floats], "instance_count": [C ints], "image_count": [C ints], "num_images": int,
"classes": [C names], "max_grid": int, "source": str}``, where ``num_images`` counts every image of the annotation
file (FRACAL's frequency denominator: 100,170 for LVIS v1 train).
"""
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

__all__ = ['FractalDimensions', 'box_centres', 'occupied_cells', 'fractal_dimensions', 'compute_fractal_dimensions',
           'load_fractal_dimensions']

FractalLike = Union['FractalDimensions', Mapping[str, Any], str, os.PathLike]
MIN_BOXES = 4  # calculate_fractality.py l.90: fewer boxes -> D = 1


@dataclass(frozen=True)
class FractalDimensions:
    """Box-centre fractal dimensions of ``C`` classes and the counts they come from.

    Attributes:
        fractal_dimension: ``(C,)`` float64, ``D_c``.
        instance_count: ``(C,)`` int64, boxes of each class.
        image_count: ``(C,)`` int64, images with a box of each class.
        num_images: every image of the annotation file (annotated or not).
        classes: class names, or None.
        max_grid: the largest grid size ``d`` used.
        source: where the values come from (a path or ``'<dict>'``), used in error messages.
    """
    fractal_dimension: np.ndarray
    instance_count: np.ndarray
    image_count: np.ndarray
    num_images: int
    classes: Optional[Tuple[str, ...]] = None
    max_grid: int = 64
    source: str = '<dict>'

    @property
    def num_classes(self) -> int:
        return len(self.fractal_dimension)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {'fractal_dimension': [float(x) for x in self.fractal_dimension],
                               'instance_count': [int(x) for x in self.instance_count],
                               'image_count': [int(x) for x in self.image_count],
                               'num_images': int(self.num_images), 'max_grid': int(self.max_grid),
                               'source': os.path.basename(self.source)}
        if self.classes is not None:
            out['classes'] = list(self.classes)
        return out

    def save(self, path: Union[str, os.PathLike]) -> str:
        """Write the JSON file :func:`load_fractal_dimensions` reads (folders are created); returns the path."""
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f, indent=1)
        return path


def box_centres(data: Mapping[str, Any], source: str = '<dict>'
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Tuple[str, ...]]:
    """Labels, normalised box centres and images of the boxes of a loaded COCO / LVIS annotation dict.

    Returns:
        ``(labels, cx, cy, images, classes)``: labels index the categories sorted by id; ``cx = x / W + (w / W) / 2``;
        ``images`` indexes ``data['images']``.

    Raises:
        ValueError: a missing field, an annotation with an unknown category or image id, a malformed box or an
            image without a positive width and height, naming the file and the offending id.
    """
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{source}: COCO/LVIS annotation file has no "{key}" field')
    cats = sorted(data['categories'], key=lambda c: c['id'])
    index = {c['id']: i for i, c in enumerate(cats)}
    sizes, image_index = {}, {}
    for i, img in enumerate(data['images']):
        width, height = img.get('width'), img.get('height')
        if not (isinstance(width, (int, float)) and isinstance(height, (int, float)) and width > 0 and height > 0):
            raise ValueError(f'{source}: image {img.get("id")!r} needs a positive "width" and "height", got '
                             f'{width!r} x {height!r}')
        sizes[img['id']] = (float(width), float(height))
        image_index[img['id']] = i
    anns = data['annotations']
    labels = np.empty(len(anns), dtype=np.int64)
    boxes = np.empty((len(anns), 4), dtype=np.float64)
    image_sizes = np.empty((len(anns), 2), dtype=np.float64)
    images = np.empty(len(anns), dtype=np.int64)
    for k, ann in enumerate(anns):
        cat = ann.get('category_id')
        if cat not in index:
            raise ValueError(f'{source}: annotation {ann.get("id")!r} has unknown category_id {cat!r} (not among '
                             f'the {len(cats)} categories)')
        if ann.get('image_id') not in sizes:
            raise ValueError(f'{source}: annotation {ann.get("id")!r} refers to unknown image_id '
                             f'{ann.get("image_id")!r}')
        bbox = ann.get('bbox')
        if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4):
            raise ValueError(f'{source}: annotation {ann.get("id")!r} has no [x, y, w, h] "bbox" (got {bbox!r})')
        labels[k] = index[cat]
        boxes[k] = bbox
        image_sizes[k] = sizes[ann['image_id']]
        images[k] = image_index[ann['image_id']]
    width, height = image_sizes[:, 0], image_sizes[:, 1]
    # get_statistics.py writes x / W and w / W; calculate_fractality.py adds half the normalised width
    cx = boxes[:, 0] / width + (boxes[:, 2] / width) / 2
    cy = boxes[:, 1] / height + (boxes[:, 3] / height) / 2
    return labels, cx, cy, images, tuple(str(c.get('name', c['id'])) for c in cats)


def _cell_index(values: np.ndarray, grid: int) -> np.ndarray:
    """The cell ``i`` with ``i * s <= v < (i + 1) * s``, ``s = 1 / grid`` computed as the official script does;
    -1 for a value in no cell."""
    edges = np.arange(grid + 1) * (1 / grid)
    idx = np.searchsorted(edges, values, side='right') - 1
    idx[(idx < 0) | (idx >= grid)] = -1
    return idx


def occupied_cells(labels: np.ndarray, cx: np.ndarray, cy: np.ndarray, num_classes: int, grid: int) -> np.ndarray:
    """``N_c(grid)``: the number of ``grid x grid`` cells holding a centre of each class, ``(C,)`` int64."""
    ix, iy = _cell_index(cx, grid), _cell_index(cy, grid)
    inside = (ix >= 0) & (iy >= 0)
    cells = np.unique((labels[inside] * grid + iy[inside]) * grid + ix[inside])
    return np.bincount(cells // (grid * grid), minlength=num_classes)


def fractal_dimensions(labels: np.ndarray, cx: np.ndarray, cy: np.ndarray, num_classes: int, max_grid: int = 64,
                       classes: Optional[Sequence[str]] = None, allow_empty: bool = False,
                       progress: bool = False) -> np.ndarray:
    """``D_c`` of every class from its box centres (see the module docstring).

    Args:
        labels: ``(N,)`` class index of each box.
        cx, cy: ``(N,)`` normalised box centres.
        num_classes: ``C``.
        max_grid: the largest grid size (official ``--dims 64``).
        classes: class names, for the error messages.
        allow_empty: give a class without boxes ``D = 1`` (the official script's value) instead of an error.
        progress: show a progress bar over the grid sizes.

    Raises:
        ValueError: a bad ``max_grid``, a class without boxes (unless ``allow_empty``), or a class whose centres all
            lie outside the image, naming the class.
    """
    if max_grid < 2:
        raise ValueError(f'max_grid must be >= 2, got {max_grid}')
    counts = np.bincount(labels, minlength=num_classes)
    empty = np.flatnonzero(counts == 0)
    if len(empty) and not allow_empty:
        names = '' if classes is None else f' ({", ".join(classes[i] for i in empty[:5])})'
        raise ValueError(f'class index {", ".join(map(str, empty[:5]))}{names} has no box: a fractal dimension needs '
                         f'boxes ({len(empty)} such classes; allow_empty=True gives them D = 1 as the official script)')
    grids = range(1, max_grid + 1)
    occupied = np.stack([occupied_cells(labels, cx, cy, num_classes, d)
                         for d in tqdm(grids, desc='grid sizes', disable=not progress)], axis=1)  # (C, max_grid)
    log_d = np.log(np.arange(1, max_grid + 1, dtype=np.float64))
    dims = np.ones(num_classes, dtype=np.float64)
    for c in np.flatnonzero(counts >= MIN_BOXES):
        used = min(math.isqrt(int(counts[c])), max_grid)  # the grid sizes with n_c >= d^2: d = 1 .. used
        if (occupied[c, :used] == 0).any():
            name = '' if classes is None else f' ({classes[c]})'
            raise ValueError(f'class index {c}{name}: none of its {counts[c]} box centres lies inside the image')
        x, y = log_d[:used], np.log(occupied[c, :used])
        slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
        dims[c] = max(slope, 1.0)
    return dims


def _read_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no such file {path!r}')
    with open(path, encoding='utf-8') as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from e


def compute_fractal_dimensions(ann_file: Union[str, os.PathLike, Mapping[str, Any]], max_grid: int = 64,
                               allow_empty: bool = False, progress: bool = False) -> FractalDimensions:
    """The fractal dimension of every class of a COCO / LVIS annotation file (a path or a loaded dict).

    Raises:
        FileNotFoundError: no such file.
        ValueError: see :func:`box_centres` and :func:`fractal_dimensions`; messages name the file.
    """
    if isinstance(ann_file, Mapping):
        data, source = ann_file, '<dict>'
    else:
        source = os.fspath(ann_file)
        data = _read_json(source)
        if not isinstance(data, dict):
            raise ValueError(f'{source}: not a COCO/LVIS annotation file')
    labels, cx, cy, images, classes = box_centres(data, source)
    if not len(labels):
        raise ValueError(f'{source}: the annotation file has no annotations')
    try:
        dims = fractal_dimensions(labels, cx, cy, len(classes), max_grid, classes, allow_empty, progress)
    except ValueError as e:
        raise ValueError(f'{source}: {e}') from e
    pairs = np.unique(labels * len(data['images']) + images)  # one per (class, image) with a box
    return FractalDimensions(dims, np.bincount(labels, minlength=len(classes)),
                             np.bincount(pairs // len(data['images']), minlength=len(classes)), len(data['images']),
                             classes, max_grid, source)


def load_fractal_dimensions(fractal_dims: FractalLike, num_classes: Optional[int] = None) -> FractalDimensions:
    """Resolve ``fractal_dims`` (the JSON file ``tools/analysis/fractal_dimension.py`` writes, its dict, or a
    :class:`FractalDimensions`) and validate it.

    Raises:
        FileNotFoundError: the file does not exist (the message says how to write it).
        ValueError: a missing field, a length that differs from ``num_classes``, or a dimension that is not a
            finite positive number; the message names the file.
    """
    if isinstance(fractal_dims, FractalDimensions):
        result = fractal_dims
    else:
        if isinstance(fractal_dims, Mapping):
            data, source = fractal_dims, '<dict>'
        elif isinstance(fractal_dims, (str, os.PathLike)):
            source = os.fspath(fractal_dims)
            if not os.path.isfile(source):
                raise FileNotFoundError(
                    f'fractal dimension file {source!r} does not exist; write it from the training annotations with '
                    f'`python tools/analysis/fractal_dimension.py TRAIN_ANN_FILE -o {source}`')
            data = _read_json(source)
        else:
            raise TypeError(f'fractal_dims must be a path or a dict, got {type(fractal_dims).__name__}')
        missing = [k for k in ('fractal_dimension', 'instance_count', 'image_count', 'num_images') if k not in data]
        if missing:
            raise ValueError(f'fractal dimension file {source}: missing field(s) {missing} (written by '
                             f'tools/analysis/fractal_dimension.py?)')
        dims = np.asarray(data['fractal_dimension'], dtype=np.float64)
        counts = np.asarray(data['instance_count'], dtype=np.int64)
        images = np.asarray(data['image_count'], dtype=np.int64)
        if dims.ndim != 1 or counts.shape != dims.shape or images.shape != dims.shape:
            raise ValueError(f'fractal dimension file {source}: "fractal_dimension" ({dims.size}), "instance_count" '
                             f'({counts.size}) and "image_count" ({images.size}) must be lists of the same length')
        classes = data.get('classes')
        result = FractalDimensions(dims, counts, images, int(data['num_images']),
                                   None if classes is None else tuple(classes), int(data.get('max_grid', 64)), source)
    if result.num_images < 1:
        raise ValueError(f'fractal dimension file {result.source}: "num_images" must be >= 1, got {result.num_images}')
    if num_classes is not None and result.num_classes != num_classes:
        raise ValueError(f'fractal dimension file {result.source} has {result.num_classes} classes but '
                         f'num_classes={num_classes}; compute it from the training annotations of this label space')
    bad = np.flatnonzero(~np.isfinite(result.fractal_dimension) | (result.fractal_dimension <= 0))
    if len(bad):
        raise ValueError(f'fractal dimension file {result.source}: class index {bad[0]} has dimension '
                         f'{float(result.fractal_dimension[bad[0]])}; dimensions must be finite and positive')
    return result
