"""Multi-label mAP per head / medium / tail split, the protocol of the Distribution-Balanced loss (Wu et al.,
ECCV 2020) on VOC-LT and COCO-MLT.

Classes are split by their *training* image count ``n`` (:func:`ltmm.core.splits.multilabel_splits`): head
``n >= head_thr`` (100), tail ``n < tail_thr`` (20), medium otherwise (20..99). The AP of each class is sklearn's
``average_precision_score`` (the DB-loss evaluation calls it per class): ``AP = sum_k (R_k - R_{k-1}) P_k`` over
the distinct score thresholds in decreasing order, without interpolation. A split's mAP is the mean AP of its
classes; ``mAP`` is the mean over all classes.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.per_class import RECORDS, export_per_class
from ...core.registry import register_into
from ...core.splits import GROUPS, MULTILABEL_HEAD_THR, MULTILABEL_TAIL_THR, multilabel_splits


def average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class average precision, as ``sklearn.metrics.average_precision_score(targets, scores, average=None)``.

    Args:
        scores: (M, C) scores of M samples.
        targets: (M, C) binary ground truth.

    Returns:
        (C,) AP in [0, 1]; NaN for a class without positive sample (its AP is undefined).
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets) > 0
    if scores.shape != targets.shape or scores.ndim != 2:
        raise ValueError(f'scores {scores.shape} and targets {targets.shape} must both be (M, C)')
    ap = np.full(scores.shape[1], np.nan)
    for c in range(scores.shape[1]):
        order = np.argsort(-scores[:, c], kind='mergesort')
        s, y = scores[order, c], targets[order, c]
        if not y.any():
            continue
        last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last sample of each distinct threshold
        tp = np.cumsum(y)[last]
        precision = tp / (last + 1)
        recall = tp / tp[-1]
        ap[c] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return ap


@register_into('METRICS', scopes=('mmpretrain',))
class MultiLabelShotMAP(BaseMetric):
    """Multi-label mAP overall and per head / medium / tail split, in percent.

    Keys (prefix ``shot_map``): ``mAP``, ``head``, ``medium``, ``tail``. Classes without a positive evaluation
    sample are left out (their AP is undefined); a split without an evaluated class reports -1.0. The per-class
    APs are kept in ``per_class_ap`` after each evaluation and written, with each class's training count and split,
    to ``per_class_ap.json`` (:mod:`ltmm.core.per_class` format) and ``per_class_ap.png`` in ``plot_dir``.

    Args:
        class_stats: training statistics (see :mod:`ltmm.core.class_stats`); ``image_count`` is ``n``.
        head_thr: head classes have at least this many training images (100).
        tail_thr: tail classes have fewer than this many training images (20).
        plot_dir: where the per-class files go: None for the current run's log folder, '' for none.
        collect_device: 'cpu' or 'gpu', for gathering results across ranks.
        prefix: metric key prefix (default ``shot_map``).
    """
    default_prefix = 'shot_map'

    def __init__(self, class_stats: ClassStatsLike, head_thr: int = MULTILABEL_HEAD_THR,
                 tail_thr: int = MULTILABEL_TAIL_THR, plot_dir: Optional[str] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.stats = load_class_stats(class_stats, allow_zero=True)
        self.splits = multilabel_splits(self.stats.image_count, head_thr, tail_thr)
        self.plot_dir = plot_dir
        self.per_class_ap: Optional[np.ndarray] = None

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = self.stats.num_classes
        for sample in data_samples:
            score = torch.as_tensor(sample['pred_score']).detach().float().cpu().reshape(-1)
            if score.numel() != num_classes:
                raise ValueError(f'MultiLabelShotMAP: pred_score has {score.numel()} classes but class_stats '
                                 f'({self.stats.source}) has {num_classes}')
            if 'gt_score' in sample:
                target = torch.as_tensor(sample['gt_score']).detach().cpu().reshape(-1) > 0
            else:
                labels = torch.as_tensor(sample['gt_label']).detach().cpu().long().reshape(-1)
                if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                    raise ValueError(f'MultiLabelShotMAP: ground-truth label {labels.tolist()} outside the '
                                     f'{num_classes} classes of class_stats ({self.stats.source})')
                target = torch.zeros(num_classes, dtype=torch.bool)
                target[labels] = True
            self.results.append((score.numpy(), target.numpy()))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        scores = np.stack([s for s, _ in results])
        targets = np.stack([t for _, t in results])
        ap = 100.0 * average_precision(scores, targets)
        self.per_class_ap = ap
        evaluated = np.isfinite(ap)
        metrics = {'mAP': float(ap[evaluated].mean()) if evaluated.any() else -1.0}
        for split in GROUPS['multilabel'][::-1]:
            sel = evaluated & (self.splits == split)
            metrics[split] = float(ap[sel].mean()) if sel.any() else -1.0
        export_per_class(self.plot_dir, RECORDS['map'].file, ap, self.stats.image_count, self.splits,
                         self.stats.classes, 'AP (%)', 'multilabel', metrics)
        return metrics
