"""Many / medium / few-shot top-1 accuracy, as reported on ImageNet-LT, Places-LT, iNaturalist and CIFAR-LT.

Classes are grouped by their *training* image count ``n`` (:func:`ltmm.core.splits.shot_groups`): many-shot
``n > many_thr``, few-shot ``n < few_thr``, medium-shot otherwise, with the defaults 100 and 20 of
classifier-balancing's ``shot_acc`` (Kang et al., ICLR 2020) and RIDE / SADE. Each group's accuracy is the mean of its
classes' accuracies; ``all`` is the mean over all evaluated classes (on a balanced test set, top-1 accuracy).
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.per_class import RECORDS, export_per_class
from ...core.registry import register_into
from ...core.splits import GROUPS, SHOT_FEW_THR, SHOT_MANY_THR, shot_groups


@register_into('METRICS', scopes=('mmpretrain',))
class ShotAccuracy(BaseMetric):
    """Top-1 accuracy per shot group (many / medium / few), in percent.

    Keys (prefix ``shot``): ``many``, ``medium``, ``few``, ``all`` (mean per-class accuracy) and ``top1``
    (instance-level accuracy). A group with no evaluated class reports -1.0.

    Args:
        class_stats: training statistics (see :mod:`ltmm.core.class_stats`); the ``image_count`` is ``n``.
        many_thr: many-shot classes have more than this many training images (100).
        few_thr: few-shot classes have fewer than this many training images (20).
        plot_dir: where ``per_class_accuracy.png`` (accuracy against training count) and ``per_class_accuracy.json``
            (:mod:`ltmm.core.per_class` format, read by ``tools/analysis/plot_per_class.py`` and ``summarize.py``)
            are written: None for the current run's log folder, '' for neither.
        collect_device: 'cpu' or 'gpu', for gathering results across ranks.
        prefix: metric key prefix (default ``shot``).
    """
    default_prefix = 'shot'

    def __init__(self, class_stats: ClassStatsLike, many_thr: int = SHOT_MANY_THR, few_thr: int = SHOT_FEW_THR,
                 plot_dir: Optional[str] = None, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.stats = load_class_stats(class_stats, allow_zero=True)
        self.groups = shot_groups(self.stats.image_count, many_thr, few_thr)
        self.plot_dir = plot_dir

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_score'].argmax() if 'pred_score' in sample else sample['pred_label']
            self.results.append((int(torch.as_tensor(pred).reshape(-1)[0]),
                                 int(torch.as_tensor(sample['gt_label']).reshape(-1)[0])))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        num_classes = self.stats.num_classes
        pairs = np.asarray(results, dtype=np.int64).reshape(-1, 2)
        bad = pairs[(pairs[:, 1] < 0) | (pairs[:, 1] >= num_classes), 1]
        if len(bad):
            raise ValueError(f'ShotAccuracy: ground-truth label {bad[0]} is outside the {num_classes} classes of '
                             f'class_stats ({self.stats.source})')
        total = np.bincount(pairs[:, 1], minlength=num_classes)
        correct = np.bincount(pairs[pairs[:, 0] == pairs[:, 1], 1], minlength=num_classes)
        per_class = np.full(num_classes, np.nan)
        np.divide(100.0 * correct, total, out=per_class, where=total > 0)
        metrics = {'top1': float(100.0 * correct.sum() / max(total.sum(), 1))}
        evaluated = total > 0
        for group in GROUPS['shot'][::-1] + ('all',):
            sel = evaluated & ((self.groups == group) if group != 'all' else True)
            metrics[group] = float(per_class[sel].mean()) if sel.any() else -1.0
        export_per_class(self.plot_dir, RECORDS['accuracy'].file, per_class, self.stats.image_count, self.groups,
                         self.stats.classes, 'top-1 accuracy (%)', 'shot', metrics)
        return metrics


def shot_accuracy_cfg(evaluator: Union[None, dict, Sequence[dict]]) -> Optional[dict]:
    """The ``ShotAccuracy`` entry of an evaluator config (a metric dict or a list of them), or None."""
    metrics = [evaluator] if isinstance(evaluator, dict) else list(evaluator or [])
    return next((dict(m) for m in metrics if isinstance(m, dict) and m.get('type') == 'ShotAccuracy'), None)
