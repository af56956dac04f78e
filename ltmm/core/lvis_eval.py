"""LVIS evaluation (AP, AP50, AP75, APs/m/l, APr/c/f, AR@300), numerically identical to lvis-api 0.5.3, vectorised.

Gupta et al., "LVIS: A Dataset for Large Vocabulary Instance Segmentation", CVPR 2019; reference implementation
lvis-dataset/lvis-api (``LVISResults`` + ``LVISEval``), whose rules are reproduced here exactly:

- at most ``max_dets`` (300) detections per image *across categories*: the top-scoring ones (ties keep file order);
- ground truth and detections with area ``<= 0`` are left out; a ground truth's ``ignore`` field is honoured;
- federated rules: a detection of a category that is neither present in the image (a ground truth of it) nor in the
  image's ``neg_category_ids`` is dropped; an unmatched detection of a category in the image's
  ``not_exhaustive_category_ids`` is ignored (neither TP nor FP);
- greedy matching per (image, category, area range, IoU threshold t in 0.50:0.05:0.95): detections by decreasing
  score take the unmatched ground truth with the highest IoU ``>= min(t, 1 - 1e-10)`` (ties: the later one),
  preferring ground truth that is not ignored for the area range;
- per category, detections of all images by decreasing score: precision ``p_i = TP_i / (TP_i + FP_i + eps)`` made
  non-increasing from the right, read at the recall points 0:0.01:1 (0 beyond the last recall); AP is the mean over
  IoU thresholds, recall points and categories (-1 where a category has no non-ignored ground truth);
  APr / APc / APf group categories by the ground truth's ``frequency`` field.

Differences from lvis-api, all on input lvis-api mishandles: a result for an image or category that is not in the
ground truth raises a ``ValueError`` naming it (lvis-api asserts, or silently drops the category); an empty result
list gives AP 0 instead of an ``IndexError``; ``img_ids`` evaluates a subset of the images exactly as lvis-api would
with a ground-truth file holding only those images. No numpy alias (``np.float``) is needed.

The ``area`` of a detection is ``w * h`` of its ``bbox`` when the (first) result has a ``bbox`` (also for ``segm``,
as in lvis-api: mmdet's segm results carry boxes), otherwise the mask area.
"""
import json
import mmap
import os
import re
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_utils

from .lvis_json import EVAL_THREADS, read_regular_results

__all__ = ['evaluate_lvis', 'run_lvis_eval', 'read_result_columns', 'LVISEvalOutput', 'IOU_THRS', 'REC_THRS',
           'AREA_RNGS']

# the same expressions as lvis-api's Params, so that the thresholds are bit-identical
IOU_THRS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
AREA_RNGS = np.array([[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]], dtype=float)
AREA_LABELS = ('all', 'small', 'medium', 'large')
FREQUENCIES = ('r', 'c', 'f')  # LVIS's 'frequency' values (ltmm.core.splits.GROUPS['lvis']; no import: see the top)

GtLike = Union[str, dict]
ResultsLike = Union[str, List[dict], Dict[str, Any]]


@dataclass
class LVISEvalOutput:
    """What :func:`run_lvis_eval` computes.

    Attributes:
        summary: AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@N, ARs@N, ARm@N, ARl@N (N = max_dets), as
            fractions; -1.0 where the group has no category with ground truth.
        precision: ``(10 IoU thresholds, 101 recall points, K categories, 4 area ranges)``, -1 where undefined.
        recall: ``(10, K, 4)``, -1 where undefined.
        cat_ids, cat_names, frequency, image_count: the K categories (sorted by id) and their ground-truth fields.
        img_ids: the evaluated images.
    """
    summary: Dict[str, float]
    precision: np.ndarray
    recall: np.ndarray
    cat_ids: List[int]
    cat_names: List[str]
    frequency: List[str]
    image_count: List[int]
    img_ids: List[int] = field(repr=False)

    def per_class_ap(self) -> np.ndarray:
        """``(K,)`` AP of each category over all areas (mean over IoU thresholds and recall points), NaN where the
        category has no ground truth in the evaluated images (lvis-api's ``classwise`` convention)."""
        p = self.precision[:, :, :, 0].reshape(-1, self.precision.shape[2])
        valid = p > -1
        count = valid.sum(0)
        total = np.where(valid, p, 0.0).sum(0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def evaluate_lvis(gt: GtLike, results: ResultsLike, iou_type: str = 'bbox',
                  img_ids: Optional[Sequence[int]] = None, max_dets: int = 300) -> Dict[str, float]:
    """LVIS metrics of ``results`` against ``gt``, identical to lvis-api 0.5.3's ``LVISEval(...).get_results()``.

    Args:
        gt: LVIS-format ground truth: a json path or the loaded dict (images with ``neg_category_ids`` and
            ``not_exhaustive_category_ids``, categories with ``frequency``).
        results: LVIS result dicts (``image_id``, ``category_id``, ``score``, ``bbox`` [x, y, w, h] and / or
            ``segmentation`` as RLE): a json path or the list; or the same as a dict of columns (arrays of image
            ids, category ids and scores, an ``(N, 4)`` array of boxes, a list of RLEs), which saves memory.
        iou_type: 'bbox' or 'segm'.
        img_ids: evaluate only these images (default: every image of ``gt``, as lvis-api does).
        max_dets: detections kept per image across categories (300; -1: no cap).

    Returns:
        dict: AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@300, ARs@300, ARm@300, ARl@300 (fractions, -1.0 for
        an empty group).
    """
    return run_lvis_eval(gt, results, iou_type, img_ids, max_dets).summary


def run_lvis_eval(gt: GtLike, results: ResultsLike, iou_type: str = 'bbox',
                  img_ids: Optional[Sequence[int]] = None, max_dets: int = 300,
                  log: Optional[Callable[[str], None]] = None, gt_name: Optional[str] = None) -> LVISEvalOutput:
    """:func:`evaluate_lvis`, also returning the precision / recall arrays and per-category information; ``log``
    receives a line at the end of each stage (loading, matching, accumulating). ``gt_name`` names the ground truth
    in error messages (default: its path, or 'ground truth' for a loaded dict)."""
    if iou_type not in ('bbox', 'segm'):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    log = log or (lambda message: None)
    if gt_name is None:
        gt_name = str(gt) if isinstance(gt, (str, os.PathLike)) else 'ground truth'
    g = _GroundTruth(load_json(gt, 'ground truth'), gt_name, img_ids)
    log(f'ground truth: {len(g.img_ids)} images, {g.num_cats} categories, {len(g.key)} objects')
    if isinstance(results, (str, os.PathLike)):
        source, columns = str(results), read_result_columns(results, iou_type)
    else:
        source, columns = 'results', _result_columns(results, 'results', iou_type)
    d = _Detections(columns, source, g, iou_type, max_dets)
    del columns  # the masks of the detections that are not evaluated go now
    log(f'{iou_type} results: {len(d.key)} detections evaluated')
    tp, fp = _match(g, d, iou_type)
    d.segms = None  # the masks are not needed any more
    log(f'{iou_type} matching done')
    precision, recall = _accumulate(g, d, tp, fp)
    summary = _summarize(precision, recall, g.frequency, max_dets)
    log(f'{iou_type} AP {summary["AP"]:.4f}')
    return LVISEvalOutput(summary, precision, recall, g.cat_ids.tolist(), g.cat_names, g.frequency, g.image_count,
                          g.img_ids.tolist())


def load_json(obj: Any, what: str) -> Any:
    """``obj`` parsed when it is a path (a FileNotFoundError naming ``what`` and the path when it is missing), else
    ``obj`` itself."""
    if isinstance(obj, (str, os.PathLike)):
        if not os.path.isfile(obj):
            raise FileNotFoundError(f'{what}: no such file {str(obj)!r}')
        with open(obj, encoding='utf-8') as f:
            return json.load(f)
    return obj


def _column(items: List[dict], key: str, source: str, what: str, dtype: Any = np.float64) -> np.ndarray:
    """``np.array([it[key] for it in items])``, with an error naming the first item that lacks ``key``."""
    try:
        return np.array([it[key] for it in items], dtype=dtype)
    except (KeyError, TypeError):
        bad = next(i for i, it in enumerate(items) if not isinstance(it, dict) or key not in it)
        raise ValueError(f'{source}: {what} {bad} has no {key!r} field: {str(items[bad])[:200]}') from None


Columns = Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray], Optional[Sequence]]


class MaskColumn(Sequence):
    """The masks of a result file, compact: each compressed RLE's ``counts`` in one shared byte buffer and its
    ``(height, width)`` in an int array (about ``len(counts) + 16`` bytes a mask instead of a dict or tuple of
    Python objects, three times that); anything else (a polygon list, an uncompressed RLE, None for a missing
    mask) kept as it is. Item ``i`` is ``(height, width, counts)`` for a compressed RLE."""

    def __init__(self) -> None:
        self._counts = bytearray()
        self._ends = array('q')
        self._size = array('q')
        self._other: Dict[int, Any] = {}

    def append(self, segm: Any) -> None:
        if isinstance(segm, tuple) and segm[2].isascii():
            self._counts += segm[2].encode('ascii')
            self._size.extend(segm[:2])
        else:
            self._other[len(self._ends)] = segm
            self._size.extend((0, 0))
        self._ends.append(len(self._counts))

    @classmethod
    def from_buffer(cls, counts: bytearray, ends: np.ndarray, sizes: np.ndarray) -> 'MaskColumn':
        """The column of compressed RLEs whose ASCII counts lie one after the other in ``counts`` (mask ``i``'s
        ending at ``ends[i]``), ``sizes`` ``(N, 2)`` their (height, width)."""
        out = cls()
        out._counts = counts
        out._ends = array('q', np.ascontiguousarray(ends, np.int64).tobytes())
        out._size = array('q', np.ascontiguousarray(sizes, np.int64).tobytes())
        return out

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> Any:
        i = int(i)
        if i in self._other:
            return self._other[i]
        start = self._ends[i - 1] if i > 0 else 0  # i < 0 is not used: a mask is looked up by result index
        return self._size[2 * i], self._size[2 * i + 1], self._counts[start:self._ends[i]].decode('ascii')

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def rle_dicts(self, rows: np.ndarray) -> Tuple[List[Any], List[int]]:
        """Items ``rows`` as pycocotools takes them, and the positions of the other items in that list: a
        compressed RLE as ``{'size', 'counts'}`` (counts as bytes; the masks of one size share one ``size`` list,
        which pycocotools only reads), anything else as it is."""
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            return [], []
        ends = np.frombuffer(self._ends, np.int64)
        starts, row_ends = np.where(rows > 0, ends[rows - 1], 0), ends[rows]
        lens = row_ends - starts  # 0 for the other items
        low, high = int(starts.min()), int(row_ends.max())
        if high - low <= 4 * int(lens.sum()) + SPAN_SLACK:  # rows near each other (file order): copy their span
            counts = bytes(memoryview(self._counts)[low:high])
            starts -= low
        else:  # scattered rows: gather their bytes only
            counts = np.frombuffer(self._counts, np.uint8)[np.repeat(starts, lens) + _ranks(lens)].tobytes()
            starts = np.cumsum(lens) - lens
        ends = starts + lens
        size = np.frombuffer(self._size, np.int64).reshape(-1, 2)[rows]
        shapes, which = np.unique(size[:, 0] << 32 | size[:, 1], return_inverse=True)
        shape_lists = [[h, w] for h, w in zip((shapes >> 32).tolist(), (shapes & 0xFFFFFFFF).tolist())]
        out = [{'size': s, 'counts': c} for s, c in zip(map(shape_lists.__getitem__, which.tolist()),
                                                         map(counts.__getitem__, map(slice, starts.tolist(),
                                                                                     ends.tolist())))]
        others = []
        if self._other:
            others = np.flatnonzero(np.isin(rows, np.fromiter(self._other, np.int64, len(self._other)))).tolist()
            for j in others:
                out[j] = self._other[int(rows[j])]
        return out, others

    def first_missing(self) -> Optional[int]:
        """The index of the first result without a mask, or None."""
        return min((i for i, m in self._other.items() if m is None), default=None)


class _ResultError(ValueError):
    """A result without a needed field (raised while parsing, by :class:`_ResultReader`)."""


class _ResultReader:
    """``json.load``'s ``object_pairs_hook``: each result dict goes straight into columns (and is not kept), each
    compressed RLE becomes a ``(height, width, counts)`` tuple; the masks are kept (in a :class:`MaskColumn`) only
    when they are needed (segm, or areas without boxes). Three times less memory than the list of dicts, and faster
    than building it."""

    def __init__(self, iou_type: str) -> None:
        self.iou_type = iou_type
        self.img, self.cat, self.score, self.box = array('q'), array('q'), array('d'), array('d')
        self.segms: Optional[MaskColumn] = None
        self.has_box: Optional[bool] = None
        self.boxes_seen = 0

    def __call__(self, pairs: List[Tuple[str, Any]]) -> Any:
        obj = dict(pairs)
        if 'image_id' not in obj:
            counts = obj.get('counts')
            if isinstance(counts, str) and 'size' in obj:
                return obj['size'][0], obj['size'][1], counts
            return obj  # an uncompressed RLE, or not a result: reported after parsing
        n = len(self.img)
        if self.has_box is None:  # the first result decides, as in lvis-api
            self.has_box = 'bbox' in obj
            self.segms = MaskColumn() if self.iou_type == 'segm' or not self.has_box else None
        try:
            self.img.append(obj['image_id'])
            self.cat.append(obj['category_id'])
            self.score.append(obj['score'])
            if 'bbox' in obj:
                if len(obj['bbox']) != 4:
                    raise ValueError
                self.box.extend(obj['bbox'])
                self.boxes_seen += 1
            if self.segms is not None:
                self.segms.append(obj.get('segmentation'))
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            key = e.args[0] if isinstance(e, KeyError) else None
            what = f"no {key!r} field" if key else 'a malformed field'
            raise _ResultError(f'result {n} has {what}: {str(obj)[:200]}') from None
        if self.has_box and self.boxes_seen != n + 1:
            raise _ResultError(f"result {n} has no 'bbox' field (the first result has one): {str(obj)[:200]}")
        return None


# between two results of the list: '}' ',' '{' with any whitespace; never inside a compressed RLE's counts (its
# characters are '0' ... 'o'), and a split anywhere else (inside a string, a nested list) leaves a chunk that is not
# valid JSON, which sends the file to the one-piece parse
_BETWEEN_RESULTS = re.compile(r'\}\s*,\s*\{')
CHUNK_CHARS = 1 << 24
FAST_CHUNK_BYTES = 1 << 22
PAIR_BLOCK = 1024  # (image, category) pairs whose masks are made at once (segm)
SPAN_SLACK = 64 << 20  # MaskColumn.rle_dicts copies the bytes between its rows' first and last mask up to this much


class _NotChunkable(Exception):
    """The result file cannot be read in chunks; it is parsed in one piece (which reports any error)."""


def _check_parsed(items: list, first: int) -> None:
    """Every item of a parsed result list was a result (the reader returns None for those)."""
    bad = next((i for i, item in enumerate(items) if item is not None), None)
    if bad is not None:
        raise ValueError(f"result {first + bad} has no 'image_id' field: {str(items[bad])[:200]}")


def _read_in_chunks(f: Any, reader: _ResultReader, chunk_chars: int) -> None:
    """Parse the result list of the text file ``f`` into ``reader`` about ``chunk_chars`` characters at a time, so
    that the file's text is never held whole (a full LVIS val segm result file has gigabytes of it)."""
    pending = f.read(chunk_chars).lstrip()
    if not pending.startswith('['):
        raise _NotChunkable
    pending, done, eof = pending[1:], 0, False
    while not eof:
        block = f.read(chunk_chars)
        eof = not block
        pending += block
        if eof:
            text, pending = '[' + pending, ''
        else:
            split = None
            for window in (len(pending) // 8, len(pending)):  # the last boundary, looked for near the end first
                for split in _BETWEEN_RESULTS.finditer(pending, max(0, len(pending) - window)):
                    pass
                if split is not None:
                    break
            if split is None:  # one result longer than the text read so far
                continue
            text, pending = '[' + pending[:split.start() + 1] + ']', pending[split.end() - 1:]
        try:
            items = json.loads(text, object_pairs_hook=reader)
        except _ResultError:
            raise
        except ValueError:  # not valid JSON once split there
            raise _NotChunkable from None
        if not isinstance(items, list):
            raise _NotChunkable
        _check_parsed(items, done)
        done += len(items)


def read_result_columns(path: Union[str, os.PathLike], iou_type: str = 'bbox',
                        chunk_chars: int = CHUNK_CHARS) -> Columns:
    """An LVIS result json as columns: image ids, category ids, scores, ``(N, 4)`` boxes (None when the results
    have none) and the masks (a :class:`MaskColumn`; None when not needed: bbox evaluation of results with boxes).

    A regular file (every result laid out like the first, as ``json.dump`` writes a result list) is read with numpy
    by :mod:`ltmm.core.lvis_json`, ``min(chunk_chars, FAST_CHUNK_BYTES)`` bytes at a time (two chunks at once in
    two threads where there are two cores), with json's values. Any
    other is parsed with ``json``, ``chunk_chars`` characters at a time (split between two results), so that memory
    holds the columns, not the text; a file that cannot be split so is parsed in one piece, with the same result.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a list of result dicts, or a result without a needed field (naming it).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'results: no such file {str(path)!r}')
    with open(path, 'rb') as f:  # smaller chunks for numpy: its temporaries stay in the heap (no page faults)
        columns = read_regular_results(f, iou_type, min(chunk_chars, FAST_CHUNK_BYTES))
    if columns is not None:
        img, cat, score, boxes, masks = columns
        return img, cat, score, boxes, MaskColumn.from_buffer(*masks) if masks is not None else None
    reader = _ResultReader(iou_type)
    try:
        try:
            with open(path, encoding='utf-8') as f:
                _read_in_chunks(f, reader, chunk_chars)
        except _NotChunkable:
            reader = _ResultReader(iou_type)
            with open(path, encoding='utf-8') as f:
                data = json.load(f, object_pairs_hook=reader)
            if not isinstance(data, list):
                raise ValueError(f'expected a list of result dicts, got {type(data).__name__}') from None
            _check_parsed(data, 0)
            del data
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    img = np.frombuffer(reader.img, dtype=np.int64)
    boxes = np.frombuffer(reader.box, dtype=np.float64).reshape(-1, 4) if reader.has_box else None
    _check_masks(reader.segms, boxes, len(img), iou_type, str(path))
    return (img, np.frombuffer(reader.cat, dtype=np.int64), np.frombuffer(reader.score, dtype=np.float64), boxes,
            reader.segms)


def _check_masks(segms: Optional[Sequence], boxes: Optional[np.ndarray], num_results: int, iou_type: str,
                 source: str) -> None:
    """Every result has a mask where masks are needed: for segm, or for the areas of results without boxes."""
    if (iou_type == 'segm' or boxes is None) and num_results:
        if segms is None:
            bad = 0
        elif isinstance(segms, MaskColumn):
            bad = segms.first_missing()
        else:
            bad = next((i for i, m in enumerate(segms) if m is None), None)
        if bad is not None:
            raise ValueError(f"{source}: result {bad} has no 'segmentation' field ({iou_type} evaluation)")


def _lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Index of each of ``ids`` in ``sorted_ids`` (sorted, unique) and whether it is there: through a table indexed
    by id where the ids are small enough (LVIS's are), else a binary search."""
    if len(sorted_ids) and sorted_ids[0] >= 0 and sorted_ids[-1] < max(4 * len(ids), 1 << 20):
        table = np.full(int(sorted_ids[-1]) + 2, -1, np.int64)  # the last cell: any id out of range
        table[sorted_ids] = np.arange(len(sorted_ids))
        idx = table[np.clip(ids, -1, len(table) - 1)]
        found = idx >= 0
        return np.maximum(idx, 0, out=idx), found
    idx = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
    found = sorted_ids[idx] == ids if len(sorted_ids) else np.zeros(len(ids), bool)
    return idx, found


def _pair_keys(sorted_ids: np.ndarray, id_lists: List[List[int]], num_cats: int,
               cat_ids: np.ndarray) -> np.ndarray:
    """Sorted keys ``image index * K + category index`` of per-image category lists (unknown categories skipped)."""
    lengths = np.array([len(c) for c in id_lists], dtype=np.int64)
    cats = np.array([c for cs in id_lists for c in cs], dtype=np.int64)
    cat_idx, found = _lookup(cat_ids, cats)
    keys = np.repeat(np.arange(len(id_lists), dtype=np.int64), lengths) * num_cats + cat_idx
    return np.unique(keys[found])


class _GroundTruth:
    """The evaluated images' annotations as arrays, sorted by (image, category) then file order."""

    def __init__(self, data: Any, source: str, img_ids: Optional[Sequence[int]]) -> None:
        if not isinstance(data, dict):
            raise ValueError(f'{source}: expected an LVIS-format dict, got {type(data).__name__}')
        for key in ('images', 'annotations', 'categories'):
            if key not in data:
                raise ValueError(f'{source}: no {key!r} field (not an LVIS-format file)')
        self.source = source
        cats = sorted(data['categories'], key=lambda c: c['id'])
        self.cat_ids = _column(cats, 'id', source, 'category', np.int64)
        self.cat_names = [str(c.get('name', c['id'])) for c in cats]
        self.frequency = [c.get('frequency') for c in cats]
        for c, f in zip(cats, self.frequency):
            if f not in FREQUENCIES:
                raise ValueError(f"{source}: category {c['id']} has frequency {f!r}, expected 'r', 'c' or 'f'")
        self.image_count = [int(c.get('image_count', 0)) for c in cats]
        self.num_cats = len(cats)

        images = {im['id']: im for im in data['images']}
        if img_ids is None:
            self.img_ids = np.array(sorted(images), dtype=np.int64)
        else:
            self.img_ids = np.unique(np.asarray(list(img_ids), dtype=np.int64))
            missing = [int(i) for i in self.img_ids if int(i) not in images]
            if missing:
                raise ValueError(f'{source}: image id {missing[0]} is not in the ground truth '
                                 f'({len(missing)} of the requested images are missing)')
        self.images = [images[int(i)] for i in self.img_ids]
        self.image_size = {im['id']: (im.get('height'), im.get('width')) for im in self.images}
        self.all_img_ids = set(images)
        lists = {}
        for key in ('neg_category_ids', 'not_exhaustive_category_ids'):
            for im in self.images:
                if key not in im:
                    raise ValueError(f"{source}: image {im['id']} has no {key!r} field (LVIS format needs it)")
            lists[key] = _pair_keys(self.img_ids, [im[key] for im in self.images], self.num_cats, self.cat_ids)

        anns = data['annotations']
        img = _column(anns, 'image_id', source, 'annotation', np.int64)
        cat = _column(anns, 'category_id', source, 'annotation', np.int64)
        unknown = ~np.isin(img, np.fromiter(self.all_img_ids, np.int64, len(self.all_img_ids)))
        if unknown.any():
            raise ValueError(f'{source}: annotation {anns[int(np.argmax(unknown))].get("id")} refers to image '
                             f'{img[unknown][0]}, which is not in images')
        cat_idx, found = _lookup(self.cat_ids, cat)
        if not found.all():
            raise ValueError(f'{source}: annotation {anns[int(np.argmin(found))].get("id")} has category '
                             f'{cat[~found][0]}, which is not in categories')
        img_idx, evaluated = _lookup(self.img_ids, img)
        area = _column(anns, 'area', source, 'annotation')
        keep = np.flatnonzero(evaluated & (area > 0) & (area < np.inf))  # lvis-api's get_ann_ids filter
        key = img_idx[keep] * self.num_cats + cat_idx[keep]
        order = np.argsort(key, kind='stable')
        self.ann_index = keep[order]  # into data['annotations']
        self.anns = anns
        self.key = key[order]
        self.cat_idx = cat_idx[self.ann_index]
        self.area = area[self.ann_index]
        self.id = np.array([anns[i].get('id', 0) for i in self.ann_index], dtype=np.int64)
        self.ignore = np.array([bool(anns[i].get('ignore', 0)) for i in self.ann_index], dtype=bool)
        # (G, A): ignored for each area range
        self.area_ignore = self.ignore[:, None] | (self.area[:, None] < AREA_RNGS[:, 0]) | (
            self.area[:, None] > AREA_RNGS[:, 1])
        self.positive_keys = np.unique(self.key)
        self.negative_keys = lists['neg_category_ids']
        self.not_exhaustive_keys = lists['not_exhaustive_category_ids']

    @cached_property
    def boxes(self) -> np.ndarray:
        """``(G, 4)`` [x, y, w, h] boxes."""
        return _column([self.anns[i] for i in self.ann_index], 'bbox', self.source, 'annotation').reshape(-1, 4)

    def rles(self, rows: np.ndarray) -> List[dict]:
        """The masks of ground truth ``rows`` as compressed RLEs (lvis-api's ``ann_to_rle``). Polygons of the same
        image size go through pycocotools in one call (one RLE per polygon; the merge of one is that RLE); an
        annotation of several polygons is merged, of a 4-number polygon (a box to pycocotools) taken alone."""
        out: List[Any] = [None] * len(rows)
        batches: Dict[Tuple[int, int], List[Tuple[int, list]]] = {}
        for j, i in enumerate(self.ann_index[rows].tolist()):
            ann = self.anns[i]
            if 'segmentation' not in ann:
                raise ValueError(f"{self.source}: annotation {ann.get('id')} has no 'segmentation' (segm evaluation)")
            segm, size = ann['segmentation'], self.image_size[ann['image_id']]
            if isinstance(segm, list) and len(segm) == 1 and isinstance(segm[0], list) and len(segm[0]) > 4:
                batches.setdefault(size, []).append((j, segm[0]))
            else:
                out[j] = _to_rle(segm, *size)
        for (height, width), items in batches.items():
            for (j, _), rle in zip(items, mask_utils.frPyObjects([poly for _, poly in items], height, width)):
                out[j] = rle
        return out


def _as_dict(segm: Any) -> Any:
    """A ``(height, width, counts)`` tuple of :func:`read_result_columns` as the RLE dict it was; others as they are."""
    return {'size': [segm[0], segm[1]], 'counts': segm[2]} if isinstance(segm, tuple) else segm


def _to_rle(segm: Any, height: int, width: int) -> dict:
    """A mask as compressed RLE, converted like lvis-api's ``ann_to_rle`` (polygons merged, uncompressed RLE
    encoded, compressed RLE as it is)."""
    if isinstance(segm, tuple):
        return _as_dict(segm)
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    if isinstance(segm.get('counts'), list):
        return mask_utils.frPyObjects(segm, height, width)
    return segm


def _result_columns(results: Any, source: str, iou_type: str) -> Columns:
    """image ids, category ids, scores, [x, y, w, h] boxes (None: none given) and masks (None: not needed) of the
    results, a list of dicts or a dict of columns. The boxes give the areas when the (first) result has one, as in
    lvis-api; the masks are needed for segm, or for areas without boxes."""
    if isinstance(results, dict):
        missing = [k for k in ('image_id', 'category_id', 'score') if k not in results]
        if missing:
            raise ValueError(f'{source}: the result columns have no {missing[0]!r}')
        img = np.asarray(results['image_id'], dtype=np.int64).reshape(-1)
        cat = np.asarray(results['category_id'], dtype=np.int64).reshape(-1)
        score = np.asarray(results['score'], dtype=np.float64).reshape(-1)
        boxes = np.asarray(results['bbox'], dtype=np.float64).reshape(-1, 4) if 'bbox' in results else None
        segms = list(results['segmentation']) if 'segmentation' in results else None
        for name, column in (('category_id', cat), ('score', score), ('bbox', boxes), ('segmentation', segms)):
            if column is not None and len(column) != len(img):
                raise ValueError(f'{source}: {len(column)} {name!r} values for {len(img)} image ids')
    elif isinstance(results, list):
        img = _column(results, 'image_id', source, 'result', np.int64)
        cat = _column(results, 'category_id', source, 'result', np.int64)
        score = _column(results, 'score', source, 'result')
        has_box = len(results) > 0 and 'bbox' in results[0]
        boxes = _column(results, 'bbox', source, 'result').reshape(-1, 4) if has_box else None
        segms = [r.get('segmentation') for r in results] if iou_type == 'segm' or not has_box else None
    else:
        raise ValueError(f'{source}: expected a list of result dicts, got {type(results).__name__}')
    _check_masks(segms, boxes, len(img), iou_type, source)
    return img, cat, score, boxes, segms


class _Detections:
    """The evaluated detections as arrays, sorted by (image, category), decreasing score, then file order."""

    def __init__(self, columns: Columns, source: str, gt: _GroundTruth, iou_type: str, max_dets: int) -> None:
        img, cat, score, boxes, segms = columns
        self.image_size, self.img_ids = gt.image_size, gt.img_ids
        index = np.arange(len(score))
        if max_dets >= 0 and len(score):  # lvis-api's limit_dets_per_image: top max_dets per image, stable
            index = _cap_per_image(img, score, max_dets)
        img, cat, score = img[index], cat[index], score[index]

        unknown = ~np.isin(img, np.fromiter(gt.all_img_ids, np.int64, len(gt.all_img_ids)))
        if unknown.any():
            raise ValueError(f'{source}: result {index[unknown][0]} is for image id {img[unknown][0]}, which is not '
                             f'in the ground truth {gt.source}')
        img_idx, evaluated = _lookup(gt.img_ids, img)
        if not evaluated.all():
            raise ValueError(f'{source}: result {index[~evaluated][0]} is for image id {img[~evaluated][0]}, which '
                             'is not among the evaluated images')
        cat_idx, found = _lookup(gt.cat_ids, cat)
        if not found.all():
            raise ValueError(f'{source}: result {index[~found][0]} has category id {cat[~found][0]}, which is not '
                             f'in the categories of {gt.source}')
        if boxes is not None:
            boxes = boxes[index]
            area = boxes[:, 2] * boxes[:, 3]
        else:
            kept = [_as_dict(segms[i]) for i in index]
            # lvis-api takes each mask's area alone; pycocotools' batch area() builds a uint8 array of the batch
            # size, which numpy 2 refuses from 256 masks on: batches of at most 255
            area = np.concatenate([mask_utils.area(kept[i:i + 255]) for i in range(0, len(kept), 255)]
                                  ).astype(np.float64) if kept else np.zeros(0)
            boxes = mask_utils.toBbox(kept).reshape(-1, 4) if kept else np.zeros((0, 4))

        key = img_idx * gt.num_cats + cat_idx
        known = np.isin(key, gt.positive_keys) | np.isin(key, gt.negative_keys)  # federated filter
        keep = np.flatnonzero(known & (area > 0) & (area < np.inf))
        # by image, category, decreasing score (stable: ties keep file order); 16-bit keys sort by radix
        order = keep[np.lexsort((-score[keep], _small_ints(cat_idx[keep]), _small_ints(img_idx[keep])))]
        self.index = index[order]  # into results
        self.key, self.score, self.area = key[order], score[order], area[order]
        self.img_idx, self.cat_idx = img_idx[order], cat_idx[order]
        self.boxes = boxes[order]
        self.not_exhaustive = np.isin(self.key, gt.not_exhaustive_keys)
        self.segms = segms  # all of them: copying out the evaluated ones costs more time than it saves memory

    def rles(self, rows: np.ndarray) -> List[dict]:
        images = self.img_ids[self.img_idx[rows]]
        if not isinstance(self.segms, MaskColumn):
            return [_to_rle(self.segms[r], *self.image_size[int(img)]) for r, img in zip(self.index[rows], images)]
        out, others = self.segms.rle_dicts(self.index[rows])
        for j in others:
            out[j] = _to_rle(out[j], *self.image_size[int(images[j])])
        return out


def _cap_per_image(img: np.ndarray, score: np.ndarray, max_dets: int) -> np.ndarray:
    """The rows (increasing) of the ``max_dets`` best-scored results of each image, ties in file order: lvis-api's
    ``limit_dets_per_image``. Only the images with more results are ranked (a result file written with a 300 cap
    needs no sort at all)."""
    if len(img) > 1 and (img[1:] >= img[:-1]).all():  # grouped by image, as result files usually are
        _, _, count = _segments(img)
        over = np.repeat(count > max_dets, count)
    else:
        _, inverse, count = np.unique(img, return_inverse=True, return_counts=True)
        over = (count > max_dets)[inverse]
    rows = np.flatnonzero(over)
    if not len(rows):
        return np.arange(len(img))
    rows = rows[np.lexsort((-score[rows], img[rows]))]  # stable: ties keep file order
    _, _, per_image = _segments(img[rows])
    keep = np.ones(len(img), bool)
    keep[rows[_ranks(per_image) >= max_dets]] = False
    return np.flatnonzero(keep)


def _segments(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique values of a sorted array with their start offsets and lengths."""
    if not len(keys):
        return keys, np.zeros(0, np.int64), np.zeros(0, np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    return keys[start], start, np.diff(np.r_[start, len(keys)])


def _box_iou(dt: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Row-wise IoU of [x, y, w, h] boxes with the same floating-point operations as pycocotools' ``bbIou``."""
    w = np.minimum(dt[:, 2] + dt[:, 0], gt[:, 2] + gt[:, 0]) - np.maximum(dt[:, 0], gt[:, 0])
    h = np.minimum(dt[:, 3] + dt[:, 1], gt[:, 3] + gt[:, 1]) - np.maximum(dt[:, 1], gt[:, 1])
    inter = w * h
    union = dt[:, 2] * dt[:, 3] + gt[:, 2] * gt[:, 3] - inter
    ok = (w > 0) & (h > 0)
    out = np.zeros(len(dt))
    np.divide(inter, union, out=out, where=ok)
    return out


def _match(g: _GroundTruth, d: _Detections, iou_type: str) -> Tuple[np.ndarray, np.ndarray]:
    """Greedy matching of every detection for each area range and IoU threshold.

    Returns:
        ``tp`` and ``fp``, boolean ``(N detections, A area ranges, T thresholds)``.
    """
    num_areas, num_thrs = len(AREA_RNGS), len(IOU_THRS)
    # an unmatched detection is ignored outside the area range or in a not-exhaustive category, else a false positive
    area_out = (d.area[:, None] < AREA_RNGS[:, 0]) | (d.area[:, None] > AREA_RNGS[:, 1])
    unmatched_ignored = (area_out | d.not_exhaustive[:, None])[:, :, None]  # (N, A, 1)
    tp = np.zeros((len(d.key), num_areas, num_thrs), bool)
    fp = np.repeat(~unmatched_ignored, num_thrs, axis=2)
    # (image, category) pairs with both detections and ground truth: the only ones needing IoUs
    d_keys, d_start, d_len = _segments(d.key)
    g_keys, g_start, g_len = _segments(g.key)
    common, di, gi = np.intersect1d(d_keys, g_keys, assume_unique=True, return_indices=True)
    if len(common):
        pd_start, pd_len, pg_start, pg_len = d_start[di], d_len[di], g_start[gi], g_len[gi]
        det_pair = np.repeat(np.arange(len(common)), pd_len)
        det_rank = _ranks(pd_len)
        det = pd_start[det_pair] + det_rank  # paired detections (rows of d), pair by pair, by decreasing score
        det_g = pg_len[det_pair]
        ious = _pair_ious(g, d, iou_type, det, det_g, pd_start, pd_len, pg_start, pg_len)
        row_start = np.cumsum(det_g) - det_g
        # A detection whose best IoU in its pair is under the lowest threshold matches nothing and takes nothing
        # from the later ones: the greedy matching runs over the others only, in the same order.
        can = np.maximum.reduceat(ious, row_start) >= min(IOU_THRS[0], 1 - 1e-10)
        det, det_pair, row_start = det[can], det_pair[can], row_start[can]
        gt_of = np.full((len(det), num_areas, num_thrs), -1, np.int32)  # matched ground truth (row of g), -1: none
        pd_len = np.bincount(det_pair, minlength=len(common))
        det_rank = _ranks(pd_len)
        # A pair whose ground truth is all ignored or all not ignored in every area range is matched the same way
        # in all of them (the preference for not-ignored ground truth only matters between the two kinds): once.
        low = np.minimum.reduceat(g.area_ignore, g_start)[gi]
        high = np.maximum.reduceat(g.area_ignore, g_start)[gi]
        uniform = (low == high).all(1)
        bucket = np.ceil(np.log2(pg_len)).astype(np.int64) * 2 + uniform  # pad to the next power of two
        bucket[pd_len == 0] = -1  # no detection that can match

        def match(b: int) -> None:
            """Match the pairs of bucket ``b`` (the buckets are independent, their rows disjoint: run in threads)."""
            pairs = np.flatnonzero(bucket == b)
            width = int(pg_len[pairs].max())
            valid = np.arange(width) < pg_len[pairs][:, None]  # (P, W)
            if b % 2:
                gt_ignore = np.zeros((len(pairs), 1, width), bool)
            else:
                gt = np.where(valid, pg_start[pairs][:, None] + np.arange(width), 0)
                gt_ignore = (g.area_ignore[gt] | ~valid[:, :, None]).transpose(0, 2, 1)  # (P, A, W)
            rows, m = _match_bucket(pairs, pd_len, pg_len, det_pair, det_rank, ious, row_start, gt_ignore)
            gt_of[rows] = np.where(m >= 0, pg_start[det_pair[rows]][:, None, None] + m, -1)

        with ThreadPoolExecutor(EVAL_THREADS) as pool:
            list(pool.map(match, np.unique(bucket[bucket >= 0]).tolist()))
        # only the detections that can match need the matched ground truth's fields
        found = gt_of >= 0
        gt_row = np.maximum(gt_of, 0)
        ignored = found & g.area_ignore[gt_row, np.arange(num_areas)[:, None]]
        matched = found & (g.id[gt_row] != 0)  # lvis-api takes a ground-truth id 0 for "no match"
        ignored |= ~matched & unmatched_ignored[det]
        tp[det] = matched & ~ignored
        fp[det] = ~matched & ~ignored
    return tp, fp


def _ranks(lengths: np.ndarray) -> np.ndarray:
    """``[0..l0-1, 0..l1-1, ...]`` for the given lengths."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _pair_ious(g: _GroundTruth, d: _Detections, iou_type: str, det: np.ndarray, det_g: np.ndarray,
               pd_start: np.ndarray, pd_len: np.ndarray, pg_start: np.ndarray, pg_len: np.ndarray) -> np.ndarray:
    """IoU of each paired detection with each ground truth of its pair, flat, detection-major."""
    if iou_type == 'bbox':
        gt = np.repeat(pg_start[np.repeat(np.arange(len(pd_len)), pd_len)], det_g) + _ranks(det_g)
        dt = np.repeat(det, det_g)
        out = np.empty(len(gt))

        def box_ious(part: slice) -> None:  # numpy releases the GIL: the halves in two threads
            out[part] = _box_iou(d.boxes[dt[part]], g.boxes[gt[part]])

        half = (len(gt) + 1) // 2
        with ThreadPoolExecutor(EVAL_THREADS) as pool:
            list(pool.map(box_ious, (slice(0, half), slice(half, None))))
        return out
    d_end, g_end = np.cumsum(pd_len), np.cumsum(pg_len)
    out_end = np.cumsum(pd_len * pg_len)  # where each pair's IoUs end in the output

    def fill(first: int, out: np.ndarray) -> None:
        """The IoUs of the block of pairs from ``first`` (their masks made at once: bounded memory)."""
        block = slice(first, first + PAIR_BLOCK)
        d0, g0 = d_end[block][0] - pd_len[block][0], g_end[block][0] - pg_len[block][0]
        dt_rles = d.rles(det[d0:d_end[block][-1]])  # the pairs' detections one pair after the other
        gt_rles = g.rles(np.repeat(pg_start[block], pg_len[block]) + _ranks(pg_len[block]))
        for de, dl, ge, gl, oe in zip((d_end[block] - d0).tolist(), pd_len[block].tolist(),
                                      (g_end[block] - g0).tolist(), pg_len[block].tolist(), out_end[block].tolist()):
            iou = mask_utils.iou(dt_rles[de - dl:de], gt_rles[ge - gl:ge], [0] * gl)
            out[oe - dl * gl:oe] = np.asarray(iou, dtype=np.float64).reshape(-1)

    return _in_two_processes(list(range(0, len(pd_len), PAIR_BLOCK)), fill, int(out_end[-1]) if len(out_end) else 0)


def _in_two_processes(items: List[int], fill: Callable[[int, np.ndarray], None], size: int) -> np.ndarray:
    """A float64 array of ``size`` filled by ``fill(item, array)`` for every item, half of the items (every second
    one) in a forked child process where there are two cores: pycocotools' mask IoU and polygon conversion hold the
    GIL, so threads would not run them at once. The child writes into shared memory and leaves with ``os._exit``
    (nothing of the parent's runs at its exit); if it cannot be forked, fails or cannot be waited for, the parent
    fills its items too."""
    if EVAL_THREADS < 2 or len(items) < 2 or not hasattr(os, 'fork'):
        out = np.empty(size)
        for item in items:
            fill(item, out)
        return out
    shared = mmap.mmap(-1, max(size, 1) * 8)  # anonymous, MAP_SHARED: the child's writes reach the parent
    out = np.frombuffer(shared, np.float64, size)
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:  # the child
        code = 1
        try:
            for item in items[1::2]:
                fill(item, out)
            code = 0
        finally:
            os._exit(code)
    try:
        for item in items[0::2]:
            fill(item, out)
    finally:
        failed = pid < 0 or _child_failed(pid)
    if failed:
        for item in items[1::2]:
            fill(item, out)
    return out  # a view of the shared mapping, which lives as long as the array


def _child_failed(pid: int) -> bool:
    """Wait for child ``pid``; True unless it exited with status 0 (also when a SIGCHLD handler of the host program
    reaped it first, so that its outcome is unknown)."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0
    except ChildProcessError:
        return True


def _match_bucket(pairs: np.ndarray, pd_len: np.ndarray, pg_len: np.ndarray, det_pair: np.ndarray,
                  det_rank: np.ndarray, ious: np.ndarray, row_start: np.ndarray,
                  gt_ignore: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Match the detections of ``pairs`` rank by rank, all pairs, area ranges and thresholds at once.

    Args:
        pairs: pair indices; ``gt_ignore`` ``(P, A', W)`` is their ground truth's ignore flag (padding: True).

    Returns:
        The pairs' paired-detection indices and, for each, ``(A', T)`` the matched ground truth's index within its
        pair (file order), -1 for none.
    """
    thrs = np.minimum(IOU_THRS, 1 - 1e-10)[:, None]  # (T, 1)
    order = np.argsort(-pd_len[pairs], kind='stable')  # most detections first: the active pairs are a prefix
    pairs, gt_ignore = pairs[order], gt_ignore[order][:, :, None, :]  # (P, A', 1, W)
    lens, width = pd_len[pairs], gt_ignore.shape[-1]
    slot = np.full(len(pd_len), -1)
    slot[pairs] = np.arange(len(pairs))
    # rows: the pairs' detections ordered by (rank, slot); rank r is rows[offset[r]: offset[r] + active[r]]
    rows = np.flatnonzero(slot[det_pair] >= 0)
    rows = rows[np.lexsort((slot[det_pair[rows]], det_rank[rows]))]
    active = np.searchsorted(-lens, -np.arange(lens[0]), side='left')  # pairs with more than r detections
    offset = np.cumsum(active) - active
    gl = pg_len[det_pair[rows]]
    iou = np.full((len(rows), width), -1.0)  # padded with -1: never a candidate
    iou[np.repeat(np.arange(len(rows)), gl), _ranks(gl)] = ious[np.repeat(row_start[rows], gl) + _ranks(gl)]
    taken = np.zeros((len(pairs), gt_ignore.shape[1], len(thrs), width), bool)  # (P, A', T, W)
    m = np.full((len(rows), gt_ignore.shape[1], len(thrs)), -1)
    reversed_cols = np.arange(width)[::-1]
    for n, off in zip(active, offset):
        row_iou = iou[off:off + n][:, None, None, :]  # (n, 1, 1, W)
        cand = (row_iou >= thrs) & ~taken[:n]  # (n, A', T, W)
        regular = cand & ~gt_ignore[:n]
        choose = np.where(regular.any(-1, keepdims=True), regular, cand)
        best = reversed_cols[np.argmax(np.where(choose, row_iou, -1.0)[..., ::-1], axis=-1)]  # last of the best
        p, a, t = np.nonzero(choose.any(-1))
        taken[p, a, t, best[p, a, t]] = True
        m[off + p, a, t] = best[p, a, t]
    return rows, m


def _accumulate(g: _GroundTruth, d: _Detections, tp: np.ndarray, fp: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Precision (T, R, K, A) and recall (T, K, A) as lvis-api's ``accumulate``, all categories at once."""
    num_thrs, num_rec, num_areas, num_cats = len(IOU_THRS), len(REC_THRS), len(AREA_RNGS), g.num_cats
    precision = -np.ones((num_thrs, num_rec, num_cats, num_areas))
    recall = -np.ones((num_thrs, num_cats, num_areas))
    # per category: all images' detections by decreasing score, ties in image order then file order (d is sorted
    # by image, category, decreasing score, file order, and lexsort is stable)
    order = np.lexsort((-d.score, _small_ints(d.cat_idx)))
    cats, start, length = _segments(d.cat_idx[order])
    eps = np.spacing(1)
    seg = np.repeat(np.arange(len(cats)), length)  # category segment of each detection

    def area_range(a: int) -> None:
        """Fill ``precision[..., a]`` and ``recall[..., a]`` (the area ranges are independent: run in threads).

        lvis-api's precision ``tp / (fp + tp + eps)`` falls or stays at every false positive or ignored detection
        and rises only at a true positive, so its running max from the right (what lvis-api reads at the recall
        points, each read at a true positive or at the category's first detection) is a max over the true
        positives alone: only they are looked at, with their cumulative TP and FP counts (exact integers, the same
        float64 operations as lvis-api's)."""
        num_gt = np.bincount(g.cat_idx, ~g.area_ignore[:, a], num_cats).astype(np.int64)  # (K,)
        evaluated = num_gt > 0
        recall[:, evaluated, a] = 0.0
        precision[:, :, evaluated, a] = 0.0
        keep = evaluated[cats]  # categories with detections and ground truth
        if not keep.any():
            return
        tp_t, tp_det = np.nonzero(tp[order, a].T)  # the true positives, by threshold then detection
        fp_sum = np.cumsum(fp[order, a].T, axis=1, dtype=np.int32 if len(order) < 1 << 31 else np.int64)  # (T, N)
        # true positive j (1-based) of each (threshold, category) cell, the FPs of the category before it
        cell = tp_t * len(cats) + seg[tp_det]
        count = np.bincount(cell, minlength=num_thrs * len(cats))
        first = np.cumsum(count) - count
        tp_sum = (np.arange(len(tp_det)) - first[cell] + 1).astype(np.float64)
        cat_start = start[seg[tp_det]]
        fps = fp_sum[tp_t, tp_det] - np.where(cat_start > 0, fp_sum[tp_t, np.maximum(cat_start - 1, 0)], 0)
        del fp_sum
        pr = fps.astype(np.float64)
        pr += tp_sum
        pr += eps
        np.divide(tp_sum, pr, out=pr)
        ks = cats[keep]
        ng = num_gt[ks]
        cell = np.arange(num_thrs)[:, None] * len(cats) + np.flatnonzero(keep)  # (T, K')
        m = count[cell]  # true positives of each cell
        recall[:, ks, a] = m / ng
        # recall points: rc = tp / num_gt is reached at the first count >= k, the least integer with
        # fl(k / num_gt) >= point (so searching integer counts gives numpy's searchsorted on rc exactly); it is read
        # at the k-th true positive (k = 0: the category's first detection, whose running max is that of all its
        # true positives), none past the last one (precision 0)
        k = np.ceil(REC_THRS[:, None] * ng).astype(np.int64) + np.array([-1, 0, 1])[:, None, None]  # (3, R, K')
        k = np.where((k >= 0) & (k / ng >= REC_THRS[:, None]), k, np.iinfo(np.int64).max).min(0)  # (R, K')
        m = m[:, None, :]  # (T, 1, K')
        inside = (k <= m) & (m > 0)  # (T, R, K')
        local = np.where(inside, np.maximum(k, 1) - 1, m)  # index of the read among the cell's true positives
        # the value read at r is the max of pr over [read r, cell end): the reads split each cell into blocks; their
        # maxima (reduceat, exact) and a suffix max over the blocks give it, with no per-category loop
        base = first[cell][:, None, :]
        edges = np.concatenate([base + local, base + m], 1).transpose(0, 2, 1)  # (T, K', R + 1)
        block = np.maximum.reduceat(np.append(pr, 0.0), edges.ravel())
        block = block.reshape(edges.shape)[:, :, :-1]
        block[edges[:, :, 1:] == edges[:, :, :-1]] = 0.0  # empty blocks (precision is >= 0)
        suffix = np.maximum.accumulate(block[:, :, ::-1], axis=2)[:, :, ::-1]  # (T, K', R)
        precision[:, :, ks, a] = np.where(inside, suffix.transpose(0, 2, 1), 0.0)

    with ThreadPoolExecutor(EVAL_THREADS) as pool:
        list(pool.map(area_range, range(num_areas)))
    return precision, recall


def _small_ints(x: np.ndarray) -> np.ndarray:
    """Non-negative indices as int16 where they fit (numpy's stable sorts of 16-bit integers are radix sorts)."""
    return x.astype(np.int16) if len(x) and x.max() < 1 << 15 else x


def _summarize(precision: np.ndarray, recall: np.ndarray, frequency: List[str], max_dets: int) -> Dict[str, float]:
    """lvis-api's ``summarize`` on the accumulated arrays (same element order, so the same floating-point means)."""
    groups = [[k for k, f in enumerate(frequency) if f == name] for name in FREQUENCIES]

    def mean(s: np.ndarray) -> float:
        s = s[s > -1]
        return float(np.mean(s)) if len(s) else -1.0

    def ap(iou_thr: Optional[float] = None, area: str = 'all', group: Optional[int] = None) -> float:
        s = precision if iou_thr is None else precision[np.where(iou_thr == IOU_THRS)[0]]
        aidx = [AREA_LABELS.index(area)]
        return mean(s[:, :, groups[group], aidx] if group is not None else s[:, :, :, aidx])

    def ar(area: str = 'all') -> float:
        return mean(recall[:, :, [AREA_LABELS.index(area)]])

    out = {'AP': ap(), 'AP50': ap(0.50), 'AP75': ap(0.75), 'APs': ap(area='small'), 'APm': ap(area='medium'),
           'APl': ap(area='large'), 'APr': ap(group=0), 'APc': ap(group=1), 'APf': ap(group=2),
           f'AR@{max_dets}': ar()}
    for area in AREA_LABELS[1:]:
        out[f'AR{area[0]}@{max_dets}'] = ar(area)
    return out
