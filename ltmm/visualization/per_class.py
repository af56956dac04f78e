"""Per-class metric against training frequency: the plot long-tail papers use to show where a method helps."""
import os
from typing import Dict, Optional, Sequence

import numpy as np


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
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    values = np.asarray(values, dtype=np.float64)
    counts = np.maximum(np.asarray(train_counts, dtype=np.float64), 0.8)  # 0-count classes still show on log x
    if values.shape != counts.shape:
        raise ValueError(f'{len(values)} values but {len(counts)} training counts')
    groups = np.asarray(groups if groups is not None else ['all'] * len(values))
    valid = np.isfinite(values) & (values >= 0)
    names = list(group_order) + [g for g in dict.fromkeys(groups.tolist()) if g not in group_order]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    colours: Dict[str, str] = {}
    for i, name in enumerate(names):
        sel = valid & (groups == name)
        if not sel.any():
            continue
        colours[name] = f'C{i}'
        mean = values[sel].mean()
        ax.scatter(counts[sel], values[sel], s=22, color=colours[name], alpha=0.85,
                   label=f'{name} ({sel.sum()} classes, mean {mean:.3g})')
        ax.hlines(mean, counts[sel].min(), counts[sel].max(), colors=colours[name], linestyles='dashed')
    ax.set_xscale('log')
    ax.set_xlabel('training images per class (log scale)')
    ax.set_ylabel(metric_name)
    ax.grid(True, which='both', alpha=0.3)
    if colours:
        ax.legend(fontsize=8, loc='best')
    ax.set_title(title or f'per-class {metric_name} vs training frequency')
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file
