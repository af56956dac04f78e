"""BAGS: Balanced Group Softmax for long-tail detection.

Li et al., "Overcoming Classifier Imbalance for Long-tail Object Detection with Balanced Group Softmax", CVPR 2020
(arXiv 2006.10408). Official code: FishYuLi/BalancedGroupSoftmax (mmdet v1.0rc0 fork, LVIS v0.5)
``mmdet/models/bbox_heads/gs_bbox_head_with0.py`` (``GSBBoxHeadWith0``), the group tables of
``tools/lvis_analyse.py`` (``get_cate_gs``, ``get_split``), ``configs/bags/gs_mask_rcnn_r50_fpn_1x_lvis.py`` and the
fc_cls-only training of ``tools/train.py`` (``selectp=1``, ``select_training_param``).
"""
import bisect
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from torch import Tensor

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss


def bags_groups(instance_count: Sequence[int], bin_edges: Sequence[int] = (10, 100, 1000)) -> np.ndarray:
    """The foreground group (1..K, K = ``len(bin_edges) + 1``) of each class from its training instance count:
    group ``1 + bisect_right(bin_edges, n)``, i.e. n < 10, 10 <= n < 100, 100 <= n < 1000, n >= 1000 by default
    (``get_cate_gs``: ``ins_count < 10`` ... ``else``). Group 0 is background vs. foreground."""
    edges = list(bin_edges)
    return np.array([1 + bisect.bisect_right(edges, int(n)) for n in instance_count], dtype=np.int64)


def bags_layout(groups: np.ndarray, num_groups: int) -> Tuple[List[Tuple[int, int]], np.ndarray, np.ndarray]:
    """The official logit layout of ``get_cate_gs``: group 0 = [background, foreground], then each foreground group
    k = 1..K as ["others", its classes in class-index order], contiguously; C + 2 + K columns in all.

    Args:
        groups: (C,) foreground group (1..K) of each class.
        num_groups: K.

    Returns:
        ``slices``: (start, length) of each of the K+1 groups; ``group_label``: (K+1, C+1) in-group target of each
        label (classes ``0..C-1``, background ``C``): group 0 gives 1 to every class and 0 to the background, group
        k gives a class of its own its 1-based position and 0 ("others") to every other label; ``column``: (C,)
        logit column of each class.
    """
    num_classes = len(groups)
    group_label = np.zeros((num_groups + 1, num_classes + 1), dtype=np.int64)
    group_label[0, :num_classes] = 1
    slices = [(0, 2)]
    column = np.zeros(num_classes, dtype=np.int64)
    start = 2
    for k in range(1, num_groups + 1):
        members = np.flatnonzero(groups == k)
        group_label[k, members] = np.arange(1, len(members) + 1)
        column[members] = start + np.arange(1, len(members) + 1)
        slices.append((start, len(members) + 1))
        start += len(members) + 1
    return slices, group_label, column


def sample_others(group_labels: Tensor, ratio: float, generator: torch.Generator) -> Tensor:
    """Which RoIs one foreground group trains on (``_sample_others``): none when the group has no positive RoI;
    else its P positives plus ``floor(ratio * P)`` of its "others" (label 0) drawn uniformly without replacement
    (all of them when there are not more). Returns a float mask (N,) on the labels' device; draws on ``generator``
    (CPU)."""
    positive = group_labels > 0
    num_pos = int(positive.sum())
    if num_pos == 0:
        return torch.zeros_like(group_labels, dtype=torch.float32)
    others = torch.nonzero(~positive).squeeze(1)
    num_draw = int(num_pos * ratio)
    if num_draw >= others.numel():
        return torch.ones_like(group_labels, dtype=torch.float32)
    keep = positive.clone()
    drawn = torch.randperm(others.numel(), generator=generator)[:num_draw].to(others.device)
    keep[others[drawn]] = True
    return keep.float()


def balanced_group_softmax_loss(cls_score: Tensor, group_labels: Sequence[Tensor], group_weights: Sequence[Tensor],
                                slices: Sequence[Tuple[int, int]]) -> Tensor:
    """``sum_k sum_i w_ki CE(softmax(z_i[G_k]), t_ki) / max(sum_i w_ki, 1)``: a softmax cross-entropy within each
    group's logits, normalised by the number of RoIs it trains on; in float32."""
    logits = cls_score.float()
    total = logits.new_zeros(())
    for (start, length), target, weight in zip(slices, group_labels, group_weights):
        ce = F.cross_entropy(logits[:, start:start + length], target, reduction='none')
        total = total + (ce * weight).sum() / weight.sum().clamp(min=1)
    return total


def balanced_group_softmax_scores(cls_score: Tensor, slices: Sequence[Tuple[int, int]], column: Tensor) -> Tensor:
    """The official test scores (``_merge_score``): softmax within each group; class c of group k scores
    ``p_0(fg) * p_k(c)`` ("others" dropped, no renormalisation) and the background ``p_0(bg)``. Returns (N, C+1),
    background last, in float32."""
    logits = cls_score.float()
    prob = torch.cat([logits[:, start:start + length].softmax(dim=1) for start, length in slices], dim=1)
    return torch.cat([prob[:, column] * prob[:, 1:2], prob[:, :1]], dim=1)


@register_into('MODELS', scopes=('mmdet',))
class BalancedGroupSoftmaxLoss(BBoxHeadContractLoss):
    """BAGS: the classes are split into groups of similar training instance counts, each with its own softmax and an
    extra "others" class; a background-vs-foreground group comes first.

    Logits (``get_cls_channels`` = C + 2 + K; C + 6 with the official 4 groups): group 0 = [bg, fg], then group
    k = 1..K = [others, its classes in class-index order] (:func:`bags_layout`). Targets: group 0 gets 0 for a
    background RoI and 1 for any foreground RoI; group k gets a class's in-group index for an RoI of one of its
    classes and 0 (others) for every other RoI, background included. Group 0 trains on every RoI; group k on its P_k
    positives plus ``floor(others_sample_ratio * P_k)`` others drawn at random (all when fewer; nothing when
    P_k = 0, :func:`sample_others`). Loss: :func:`balanced_group_softmax_loss` (one softmax CE per group, each
    normalised by its number of trained RoIs, summed). ``label_weights`` and ``avg_factor`` are ignored (official).

    Test scores (``get_activation``, :func:`balanced_group_softmax_scores`): ``p_0(fg) * p_k(c)`` for class c in
    group k and ``p_0(bg)`` for the background column, with no renormalisation: the official ``_merge_score``.

    The official model re-trains only fc_cls of a trained softmax baseline (the C + 6 columns make mmengine skip the
    old classifier on ``load_from``, so it keeps the head's Normal(0, 0.01) init): see ``FreezeAllButHook`` and
    ``configs/bags``.

    Args:
        num_classes: number of foreground classes C (1203 LVIS v1, 1230 LVIS v0.5).
        class_stats: training class statistics (``ltmm.core.class_stats``); the groups come from ``instance_count``
            (the official ``cate['instance_count']`` of the LVIS train json). Classes without instances are allowed
            (they join the first group).
        bin_edges: instance-count boundaries of the foreground groups. Default (10, 100, 1000) (``get_cate_gs``
            and ``get_split``, tools/lvis_analyse.py l.24-34).
        others_sample_ratio: "others" RoIs drawn per positive RoI of a group. Default 8.0
            (``others_sample_ratio=8.0``, gs_mask_rcnn_r50_fpn_1x_lvis.py).
        seed: seed of the "others" sampling. Default 0.
        loss_weight: multiplier of the loss. Default 1.0 (``loss_bin`` weight 1).

    Deviations from the official code:
    - sampling is reproducible: each call reseeds a generator with ``(seed, rank, call index)``; the call index is a
      buffer, so a resumed run continues the same sequence (official: the unseeded global numpy RNG, per GPU);
    - the five group losses are returned summed, as ``loss_cls`` (official: logged as ``loss_cls_bin0..4`` and
      summed by the optimiser step), so the head's accuracies are logged as ``acc_objectness`` (group-0 argmax
      against background/foreground, all RoIs) and ``acc_classes`` (top-1 of the test scores on foreground RoIs);
      the official head logs no accuracy;
    - the layout follows mmdet 3.x labels (foreground 0..C-1, background C) instead of v1.0rc0's (background 0);
      the columns are the official ones.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, bin_edges: Sequence[int] = (10, 100, 1000),
                 others_sample_ratio: float = 8.0, seed: int = 0, loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=False, loss_weight=loss_weight)
        edges = [int(e) for e in bin_edges]
        if not edges or any(e <= 0 for e in edges) or edges != sorted(set(edges)):
            raise ValueError(f'BalancedGroupSoftmaxLoss: bin_edges must be increasing positive instance counts, got '
                             f'{tuple(bin_edges)}')
        if not others_sample_ratio >= 0:
            raise ValueError(f'BalancedGroupSoftmaxLoss: others_sample_ratio must be >= 0, got {others_sample_ratio}')
        stats = load_class_stats(class_stats, num_classes=num_classes, allow_zero=True)
        self.bin_edges = tuple(edges)
        self.num_groups = len(edges) + 1
        self.others_sample_ratio = others_sample_ratio
        self.seed = seed
        self.groups = bags_groups(stats.instance_count, edges)
        self.slices, group_label, column = bags_layout(self.groups, self.num_groups)
        self.register_buffer('group_label', torch.from_numpy(group_label), persistent=False)
        self.register_buffer('class_column', torch.from_numpy(column), persistent=False)
        self.register_buffer('num_calls', torch.zeros((), dtype=torch.int64))
        self._generator = torch.Generator()

    def get_cls_channels(self, num_classes: int) -> int:
        """Classifier width: C + 2 + K (background, foreground, one "others" per group, the classes)."""
        self._check_num_classes(num_classes)
        return num_classes + 2 + self.num_groups

    def group_targets(self, labels: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Each group's in-group targets and RoI weights (group 0: all RoIs; the others subsampled)."""
        if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) <= self.num_classes:
            raise ValueError(f'BalancedGroupSoftmaxLoss: RoI labels must lie in 0..{self.num_classes} (classes, then '
                             f'the background {self.num_classes}), got {sorted(set(labels.tolist()))}')
        self._generator.manual_seed((self.seed * 1_000_003 + dist.get_rank()) * 1_000_003 + int(self.num_calls))
        self.num_calls += 1
        targets = [self.group_label[k][labels] for k in range(self.num_groups + 1)]
        weights = [torch.ones_like(labels, dtype=torch.float32)]
        weights += [sample_others(t, self.others_sample_ratio, self._generator) for t in targets[1:]]
        return targets, weights

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        width = self.get_cls_channels(self.num_classes)
        if cls_score.size(1) != width:
            raise ValueError(f'BalancedGroupSoftmaxLoss: expected {width} logits (C + 2 + {self.num_groups} groups), '
                             f'got {cls_score.size(1)}')
        targets, weights = self.group_targets(labels)
        return self.loss_weight * balanced_group_softmax_loss(cls_score, targets, weights, self.slices)

    def get_activation(self, cls_score: Tensor) -> Tensor:
        """Test-time scores (N, C+1), background last (:func:`balanced_group_softmax_scores`)."""
        return balanced_group_softmax_scores(cls_score, self.slices, self.class_column)

    def get_accuracy(self, cls_score: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """``acc_objectness``: group 0's background-vs-foreground argmax on all RoIs; ``acc_classes``: top-1 of the
        test scores over the C classes on foreground RoIs (0 when none). In percent."""
        logits = cls_score.detach().float()
        is_bg = labels == self.num_classes
        pred_bg = logits[:, 0] >= logits[:, 1]
        acc_obj = (pred_bg == is_bg).float().mean() * 100 if labels.numel() else logits.new_zeros(())
        fg = ~is_bg
        if fg.any():
            scores = self.get_activation(logits[fg])[:, :self.num_classes]
            acc_cls = (scores.argmax(dim=1) == labels[fg]).float().mean() * 100
        else:
            acc_cls = logits.new_zeros(())
        return dict(acc_objectness=acc_obj, acc_classes=acc_cls)
