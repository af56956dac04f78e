"""ECM: Effective Class-Margin loss for long-tail detection.

Cho and Krähenbühl, "Long-tail Detection with Effective Class-Margins", ECCV 2022 (arXiv 2301.09724). Official code:
janghyuncho/ECM-Loss (mmdet 2.x fork) ``mmdet/models/losses/effective_class_margin_loss.py``
(``EffectiveClassMarginLoss``) and ``ecm_utils.py`` (``get_detection_weight``); configs
``configs/effective_class_margin_loss/{r50_ecm_1x,r50_ecm_2x,r101_ecm_2x}.py``.
"""
import math
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss, onehot_bce_sum


def ecm_margins(instance_count: Tensor, fg_bg_ratio: float) -> Tuple[Tensor, Tensor]:
    """ECM's per-column logit offset and loss weight over C+1 columns (background last), in float64.

    ``n`` = the C instance counts followed by the background count ``fg_bg_ratio * sum(n_c)``; ``n_neg = sum(n) - n``.
    The effective probability ``e^(s + pos_w) / (e^(s + pos_w) + e^(-s + neg_w))`` with
    ``pos_w = ln((n^1/4 + n_neg^1/4) / n_neg^1/4)`` and ``neg_w = ln((n^1/4 + n_neg^1/4) / n^1/4)`` equals
    ``sigmoid(2 s + offset)`` with ``offset = pos_w - neg_w = ln(n / n_neg) / 4``; the column weight (Theorem 2) is
    ``w = a ln((1 + a) / a)`` with ``a = n_neg / n``.

    Returns:
        (offset, weight), each (C+1,) float64.
    """
    fg = instance_count.double()
    n = torch.cat([fg, fg.sum().reshape(1) * fg_bg_ratio])
    n_neg = n.sum() - n
    offset = 0.25 * (torch.log(n) - torch.log(n_neg))
    a = n_neg / n
    return offset, a * torch.log1p(1 / a)


@register_into('MODELS', scopes=('mmdet',))
class ECMLoss(BBoxHeadContractLoss):
    """ECM: sigmoid cross-entropy over C+1 logits (the last is background) with the effective class-margins of the
    training counts.

    For RoI i and column c (one-hot targets over C+1 columns: a background RoI is positive for column C):
    ``L = loss_weight * sum_ic w_c BCEWithLogits(2 s_ic + offset_c, y_ic) / N`` with
    ``offset_c = ln(n_c / n_neg,c) / 4`` and ``w_c = a_c ln((1 + a_c) / a_c)``, ``a_c = n_neg,c / n_c`` (see
    :func:`ecm_margins`), ``n_c`` the **instance** counts of the C classes and ``n_C = fg_bg_ratio * sum_c n_c`` the
    background count, ``n_neg,c = sum(n) - n_c``. Rare classes get a large negative offset (about -4 for one
    instance in LVIS v1) and weight 1; the background gets offset +0.46 and weight 0.315. ``label_weights`` and
    ``avg_factor`` are ignored; the sum is divided by the number of RoIs N (official).

    Test scores (``get_activation``): ``sigmoid(s)`` on every column, class columns multiplied by
    ``1 - sigmoid(s_bg)``, then the background probability; no factor 2 and no margin (official). The official
    classifier is ``NormedLinear(tempearture=20)`` (``cls_predictor_cfg``), which keeps ``|s|`` within 20 plus the
    bias.

    Args:
        num_classes: number of foreground classes C (1203 LVIS v1, 1230 LVIS v0.5).
        class_stats: training class statistics (``ltmm.core.class_stats``); ``instance_count`` gives ``n_c``. The
            official file ``lvis_v1_image_count.pkl`` holds the LVIS v1 *instance* counts (sum 1,270,141), despite
            its name. Every class needs at least one instance (a zero count has no margin).
        fg_bg_ratio: background count over the foreground count. Default 6.3313 ("empirical fg-bg ratio from
            Mask-RCNN", effective_class_margin_loss.py l.15), measured on LVIS v1.
        loss_weight: multiplier of the loss. Default 1.0.

    Deviations from the official code:
    - the loss is ``BCEWithLogits(2 s + offset)``, algebraically the official ratio of raw exponentials, which
      overflows in float32 for ``|s|`` above about 44 (equal values where the official one is finite);
    - the counts and margins are derived from ``class_stats`` and are not in the state dict (the official
      ``sample_n`` and ``detection_cls_weight`` buffers are, so a loaded checkpoint there replaces the counts);
    - ``acc_objectness`` predicts background when ``s_bg > 0`` (``sigmoid > 0.5``); the official monitor compares
      ``s_bg`` with ``1 - s_bg`` (i.e. ``s_bg > 0.5``). ``acc_classes`` is the official top-1 over C.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, fg_bg_ratio: float = 6.3313,
                 loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=True, test_with_obj=True, loss_weight=loss_weight)
        if not (math.isfinite(fg_bg_ratio) and fg_bg_ratio > 0):
            raise ValueError(f'ECMLoss: fg_bg_ratio must be a positive number, got {fg_bg_ratio}')
        stats = load_class_stats(class_stats, num_classes=num_classes)
        empty = np.flatnonzero(stats.instance_count == 0)
        if len(empty):
            raise ValueError(f'ECMLoss: class_stats from {stats.source}: class index {", ".join(map(str, empty[:5]))} '
                             f'has no training instance; the effective class-margin needs every class to be present')
        self.fg_bg_ratio = fg_bg_ratio
        offset, weight = ecm_margins(torch.tensor(stats.instance_count), fg_bg_ratio)
        self.register_buffer('offset', offset.float(), persistent=False)
        self.register_buffer('column_weight', weight.float(), persistent=False)

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        if cls_score.size(1) != self.num_classes + 1:
            raise ValueError(f'ECMLoss: expected {self.num_classes + 1} logits (C classes, then background), got '
                             f'{cls_score.size(1)}')
        logits = 2 * cls_score.float() + self.offset
        loss = onehot_bce_sum(logits, labels, self.column_weight, self.column_weight)
        return self.loss_weight * loss / max(cls_score.size(0), 1)
