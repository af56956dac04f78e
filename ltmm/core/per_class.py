"""Per-class records: the one format in which every task's metric writes its per-class results (classification
accuracy, multi-label AP, LVIS AP), read back by ``tools/analysis/plot_per_class.py`` and
``tools/analysis/summarize.py``, and the plot long-tail papers use to show where a method helps (metric against
training frequency).

Per-class json (``per_class_<name>.json``, beside ``per_class_<name>.png``)::

    {"format": "ltmm-per-class/1", "metric": "bbox AP", "grouping": "shot" | "multilabel" | "lvis",
     "classes": [C names], "train_count": [C ints], "group": [C names, e.g. 'few'/'medium'/'many'],
     "group_order": ['few', 'medium', 'many'], "value": [C floats, null where not evaluated],
     "summary": {metric: value}}

``grouping`` names the class groups of :mod:`ltmm.core.splits` (``group_order`` is theirs, rare first).
"""
import glob
import json
import math
import os
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .splits import GROUPS

PER_CLASS_FORMAT = 'ltmm-per-class/1'


class RecordKind(NamedTuple):
    """One kind of per-class record: the file a metric writes and the summary numbers a table reports of it."""
    file: str  # file name without extension, in the run's log folder
    columns: Tuple[str, ...]  # summary keys, in table order
    headers: Tuple[str, ...]  # their column headers
    log_prefix: str  # the metric's key prefix in mmengine's json logs (``shot/`` + ``many``)
    scale: float  # multiplies the summary values to percent


# what each metric writes: ShotAccuracy, MultiLabelShotMAP, FastLVISMetric (bbox and segm)
RECORDS: Dict[str, RecordKind] = {
    'accuracy': RecordKind('per_class_accuracy', ('all', 'many', 'medium', 'few'), ('All', 'Many', 'Medium', 'Few'),
                           'shot/', 1.0),
    'map': RecordKind('per_class_ap', ('mAP', 'head', 'medium', 'tail'), ('mAP', 'Head', 'Medium', 'Tail'),
                      'shot_map/', 1.0),
    'bbox': RecordKind('per_class_bbox_ap', ('AP', 'APr', 'APc', 'APf'), ('AP', 'APr', 'APc', 'APf'), 'lvis/bbox_',
                       100.0),
    'segm': RecordKind('per_class_segm_ap', ('AP', 'APr', 'APc', 'APf'), ('AP', 'APr', 'APc', 'APf'), 'lvis/segm_',
                       100.0),
}


def plot_per_class(values: Sequence[float], train_counts: Sequence[int], out_file: str, metric_name: str,
                   groups: Optional[Sequence[str]] = None, group_order: Sequence[str] = (),
                   title: Optional[str] = None) -> str:
    """Scatter one point per class, x = training count (log scale), y = metric; a dashed line per group shows the
    group's mean. Classes whose value is NaN or negative (not evaluated) are left out.

    Args:
        values: ``(C,)`` per-class metric (e.g. AP or accuracy).
        train_counts: ``(C,)`` training images per class.
        out_file: PNG path (folders are created).
        metric_name: y-axis label.
        groups: ``(C,)`` group of each class (e.g. 'r'/'c'/'f' or 'few'/'medium'/'many'); one colour per group.
        group_order: the order groups are listed in the legend.
        title: figure title.

    Returns:
        ``out_file``.
    """
    return plot_per_class_panels([dict(values=values, train_counts=train_counts, groups=groups,
                                       title=title or f'per-class {metric_name} vs training frequency')],
                                 out_file, metric_name, group_order)


def plot_per_class_panels(panels: List[Dict[str, Any]], out_file: str, metric_name: str,
                          group_order: Sequence[str] = ()) -> str:
    """:func:`plot_per_class` for several runs side by side (shared y axis), one panel per dict with ``values``,
    ``train_counts``, ``groups`` (or None) and ``title``. Returns ``out_file``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.2), dpi=120, sharey=True, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        _scatter(ax, panel['values'], panel['train_counts'], panel.get('groups'), group_order)
        ax.set_title(panel.get('title') or '', fontsize=10)
    axes[0][0].set_ylabel(metric_name)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def _scatter(ax: Any, values: Sequence[float], train_counts: Sequence[int], groups: Optional[Sequence[str]],
             group_order: Sequence[str]) -> None:
    values = np.asarray(values, dtype=np.float64)
    counts = np.maximum(np.asarray(train_counts, dtype=np.float64), 0.8)  # 0-count classes still show on log x
    if values.shape != counts.shape:
        raise ValueError(f'{len(values)} values but {len(counts)} training counts')
    groups = np.asarray(groups if groups is not None else ['all'] * len(values))
    valid = np.isfinite(values) & (values >= 0)
    names = list(group_order) + [g for g in dict.fromkeys(groups.tolist()) if g not in group_order]
    shown = False
    for i, name in enumerate(names):
        sel = valid & (groups == name)
        if not sel.any():
            continue
        shown = True
        mean = values[sel].mean()
        ax.scatter(counts[sel], values[sel], s=22, color=f'C{i}', alpha=0.85,
                   label=f'{name} ({sel.sum()} classes, mean {mean:.3g})')
        ax.hlines(mean, counts[sel].min(), counts[sel].max(), colors=f'C{i}', linestyles='dashed')
    ax.set_xscale('log')
    ax.set_xlabel('training images per class (log scale)')
    ax.grid(True, which='both', alpha=0.3)
    if shown:
        ax.legend(fontsize=8, loc='best')


def save_per_class(out_file: str, values: Sequence[float], train_counts: Sequence[int], groups: Sequence[str],
                   classes: Sequence[str], metric: str, grouping: str, summary: Dict[str, float]) -> str:
    """Write per-class results in the format above (NaN / negative values become null). Returns ``out_file``.

    Args:
        out_file: the json path (folders are created).
        values: ``(C,)`` per-class metric.
        train_counts: ``(C,)`` training images per class.
        groups: ``(C,)`` group of each class under ``grouping``.
        classes: ``(C,)`` class names.
        metric: the metric's name (e.g. 'bbox AP', 'top-1 accuracy (%)').
        grouping: 'shot', 'multilabel' or 'lvis' (:mod:`ltmm.core.splits`).
        summary: the run's summary metrics.
    """
    if grouping not in GROUPS:
        raise ValueError(f'{out_file}: grouping must be one of {sorted(GROUPS)}, got {grouping!r}')
    values = [float(v) for v in values]
    lengths = {len(values), len(train_counts), len(groups), len(classes)}
    if len(lengths) != 1:
        raise ValueError(f'{out_file}: per-class lists differ in length ({sorted(lengths)})')
    data = dict(format=PER_CLASS_FORMAT, metric=metric, grouping=grouping, classes=[str(c) for c in classes],
                train_count=[int(n) for n in train_counts], group=[str(g) for g in groups],
                group_order=list(GROUPS[grouping]),
                value=[v if math.isfinite(v) and v >= 0 else None for v in values],
                summary={k: float(v) for k, v in summary.items()})
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w', encoding='utf-8') as f:
        json.dump(data, f)
    return out_file


def export_per_class(folder: Optional[str], name: str, values: Sequence[float], train_counts: Sequence[int],
                     groups: Sequence[str], classes: Optional[Sequence[str]], metric: str, grouping: str,
                     summary: Dict[str, float], title: Optional[str] = None) -> Optional[str]:
    """What every per-class metric does after an evaluation: write ``<folder>/<name>.json`` (the format above) and
    ``<folder>/<name>.png`` (:func:`plot_per_class`), and log where.

    Args:
        folder: the output folder; None for the current run's log folder (the folder of mmengine's current logger's
            log file; nothing is written when there is none), '' for nowhere.
        name: the file name without extension, e.g. ``per_class_accuracy``.
        classes: class names; their indices when None.
        Others: see :func:`save_per_class`; ``title`` is the plot's.

    Returns:
        the json path, or None when nothing was written.
    """
    from mmengine.logging import MMLogger

    logger = MMLogger.get_current_instance()
    if folder is None:
        log_file = getattr(logger, 'log_file', None)
        folder = os.path.dirname(log_file) if log_file else ''
    if not folder:
        return None
    base = os.path.join(folder, name)
    classes = [str(c) for c in range(len(values))] if classes is None else classes
    save_per_class(base + '.json', values, train_counts, groups, classes, metric, grouping, summary)
    plot_per_class(values, train_counts, base + '.png', metric, groups, GROUPS[grouping], title=title)
    logger.info(f'per-class {metric} written to {base}.json and {name}.png')
    return base + '.json'


def find_record(work_dir: str, metric: str) -> Optional[str]:
    """The newest per-class record of ``metric`` (a key of :data:`RECORDS`) under ``work_dir``, searched
    recursively (each run writes into its own timestamped log folder); None when there is none."""
    found = glob.glob(os.path.join(work_dir, '**', RECORDS[metric].file + '.json'), recursive=True)
    return max(found, key=os.path.getmtime) if found else None


def load_per_class(path: str) -> Dict[str, Any]:
    """Read a per-class json; ``value`` comes back as a float array with NaN for null."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if not isinstance(data, dict) or data.get('format') != PER_CLASS_FORMAT:
        raise ValueError(f'{path}: not an ltmm per-class file (expected "format": "{PER_CLASS_FORMAT}")')
    for key in ('metric', 'classes', 'train_count', 'group', 'value', 'summary'):
        if key not in data:
            raise ValueError(f'{path}: no {key!r} field')
    data['value'] = np.array([np.nan if v is None else v for v in data['value']], dtype=np.float64)
    return data


REPRODUCE_FORMAT = 'ltmm-reproduce/1'
MAX_LOG_BYTES = 50 * 2 ** 20  # larger json files are result dumps, not logs


def _from_reproduce_record(path: str, metric: str) -> Dict[str, float]:
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    if not isinstance(record, dict) or record.get('format') != REPRODUCE_FORMAT:
        raise ValueError(f'{path}: not a reproduction record (format {REPRODUCE_FORMAT!r})')
    if metric not in record['metrics']:
        raise ValueError(f'{path}: no {metric!r} metrics (it has {", ".join(record["metrics"])})')
    return record['metrics'][metric]


def _from_logs(work_dir: str, metric: str) -> Optional[Dict[str, float]]:
    """The newest mmengine json log entry with the metric's keys, as {column: value}."""
    record = RECORDS[metric]
    wanted = {c: record.log_prefix + c for c in record.columns}
    logs = [p for p in glob.glob(os.path.join(work_dir, '**', '*.json'), recursive=True)
            if not os.path.basename(p).startswith('per_class_') and os.path.getsize(p) < MAX_LOG_BYTES]
    for path in sorted(logs, key=os.path.getmtime, reverse=True):
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
        for line in reversed(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                break  # not a json-lines log (e.g. a result file)
            if isinstance(entry, dict) and all(k in entry for k in wanted.values()):
                return {c: float(entry[k]) for c, k in wanted.items()}
    return None


def read_run(work_dir: str, metric: str) -> Dict[str, float]:
    """{column: value} of one run, as the metric reports it (detection: fractions): from ``work_dir``'s newest
    per-class record of ``metric``, else its newest mmengine json log holding the metric's keys. ``work_dir`` may
    also be a reproduction record (``reproduce.json``, ``tools/analysis/reproduce_record.py``)."""
    if os.path.isfile(work_dir) and work_dir.endswith('.json'):
        return _from_reproduce_record(work_dir, metric)
    if not os.path.isdir(work_dir):
        raise FileNotFoundError(f'no such work dir {work_dir!r}')
    record = RECORDS[metric]
    path = find_record(work_dir, metric)
    if path is not None:
        with open(path, encoding='utf-8') as f:
            summary = json.load(f).get('summary', {})
        missing = [c for c in record.columns if c not in summary]
        if missing:
            raise ValueError(f'{path}: summary has no {missing[0]!r}')
        return {c: float(summary[c]) for c in record.columns}
    values = _from_logs(work_dir, metric)
    if values is None:
        raise FileNotFoundError(f'{work_dir}: neither {record.file}.json nor a json log with {metric} metrics')
    return values
