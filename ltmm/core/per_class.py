"""Per-class metric against training frequency: the plot long-tail papers use to show where a method helps, and
the small json format the metrics write per-class results in (read back by ``tools/analysis/plot_per_class.py``
and ``tools/analysis/summarize.py``).

Per-class json (``per_class_<name>.json``)::

    {"format": "ltmm-per-class/1", "metric": "bbox AP", "grouping": "lvis" | "shot",
     "classes": [C names], "train_count": [C ints], "group": [C names, e.g. 'r'/'c'/'f' or 'many'/'medium'/'few'],
     "group_order": ['r', 'c', 'f'], "value": [C floats, null where not evaluated], "summary": {metric: value}}
"""
import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

PER_CLASS_FORMAT = 'ltmm-per-class/1'


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
                   classes: Sequence[str], metric: str, grouping: str, group_order: Sequence[str],
                   summary: Dict[str, float]) -> str:
    """Write per-class results in the format above (NaN / negative values become null). Returns ``out_file``."""
    values = [float(v) for v in values]
    lengths = {len(values), len(train_counts), len(groups), len(classes)}
    if len(lengths) != 1:
        raise ValueError(f'{out_file}: per-class lists differ in length ({sorted(lengths)})')
    data = dict(format=PER_CLASS_FORMAT, metric=metric, grouping=grouping, classes=[str(c) for c in classes],
                train_count=[int(n) for n in train_counts], group=[str(g) for g in groups],
                group_order=list(group_order),
                value=[v if math.isfinite(v) and v >= 0 else None for v in values],
                summary={k: float(v) for k, v in summary.items()})
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w', encoding='utf-8') as f:
        json.dump(data, f)
    return out_file


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
