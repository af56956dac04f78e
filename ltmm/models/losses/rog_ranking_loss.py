"""ROG's global ranking loss (the GAP objective), added beside the classification loss of a bbox head.

Zhang et al., "Reconciling Object-Level and Global-Level Objectives for Long-Tail Detection", ICCV 2023. Official
code: EricZsy/ROG ``mmdet/models/losses/gap_loss.py`` (``GAPLoss``, a custom autograd Function with a Python loop
over the positives of every class) and ``mmdet/models/roi_heads/bbox_heads/rog_convfc_bbox_head.py``.

Here the same value and the same hand-built gradient are computed without a loop over positives. The smoothed step
``H(x) = clamp(x / (2 delta) + 1/2, 0, 1)`` is piecewise linear, so every sum of ``H(v_j - q_k)`` over many values
v_j (the negatives) and few queries q_k (the positives) reduces to counts and sums of the values in the 2Q+1 bands cut
by the breakpoints ``q_k -+ delta``: one ``searchsorted`` and two ``bincount`` over the N x C logits, no sort of them.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ...registry import register_into


def _bands(queries: Tensor, delta: float) -> Tuple[Tensor, Tensor, Tensor]:
    """Sorted breakpoints ``q -+ delta`` of Q queries, and the positions of each query's lower / upper breakpoint."""
    edges, order = torch.cat([queries - delta, queries + delta]).sort()
    position = torch.empty_like(order)
    position[order] = torch.arange(order.numel(), device=order.device)
    num = queries.numel()
    return edges, position[:num], position[num:]


def smooth_step_sums(values: Tensor, queries: Tensor, delta: float) -> Tensor:
    """``S_k = sum_j H(values_j - queries_k)`` for every query (float64). Band b holds the values with
    ``edges[b-1] <= v < edges[b]``; a band above ``q_k + delta`` counts fully, a band inside ``(q_k -+ delta)``
    counts ``(v - q_k + delta) / (2 delta)`` summed, i.e. from the band's count and sum."""
    edges, lo, hi = _bands(queries, delta)
    band = torch.searchsorted(edges, values, right=True)
    counts = F.pad(torch.bincount(band, minlength=edges.numel() + 1).to(values.dtype).cumsum(0), (1, 0))
    sums = F.pad(torch.bincount(band, weights=values, minlength=edges.numel() + 1).cumsum(0), (1, 0))
    full = counts[-1] - counts[hi + 1]
    ramp = (sums[hi + 1] - sums[lo + 1] - (queries - delta) * (counts[hi + 1] - counts[lo + 1])) / (2 * delta)
    return full + ramp


def weighted_smooth_steps(values: Tensor, queries: Tensor, query_weight: Tensor, delta: float) -> Tensor:
    """``G_j = sum_k a_k H(values_j - queries_k)`` for every value (float64). Within a band, G is linear in v:
    ``A_b + B_b v``, where a query adds ``a_k (delta - q_k) / (2 delta)`` to A and ``a_k / (2 delta)`` to B at its
    lower breakpoint, and turns into a constant ``a_k`` at its upper breakpoint."""
    edges, lo, hi = _bands(queries, delta)
    ramp_const = query_weight * (delta - queries) / (2 * delta)
    ramp_slope = query_weight / (2 * delta)
    const = torch.zeros_like(edges)
    slope = torch.zeros_like(edges)
    const[lo] = ramp_const
    const[hi] = query_weight - ramp_const
    slope[lo] = ramp_slope
    slope[hi] = -ramp_slope
    const = F.pad(const.cumsum(0), (1, 0))
    slope = F.pad(slope.cumsum(0), (1, 0))
    band = torch.searchsorted(edges, values, right=True)
    return const[band] + slope[band] * values


def rog_class_weights(num_samples: Tensor, gamma: float) -> Tensor:
    """``w_m = (1 / n_m)^gamma`` renormalised to sum to C, from RoI counts clamped to >= 1."""
    w = num_samples.clamp(min=1).double().reciprocal().pow(gamma)
    return w / (w.sum() + 1e-9) * num_samples.numel()


def gap_loss_and_grad(logits: Tensor, labels: Tensor, class_weight: Tensor, lam: float, delta: float,
                      eps: float = 1e-10) -> Tuple[Tensor, Tensor]:
    """The GAP ranking error and its official gradient w.r.t. ``logits``.

    Every (RoI, class) logit of the (N, C) matrix is one entry of a global ranking. Class m's positives P_m are the
    entries ``(i, m)`` with ``labels_i = m``; the negatives are all entries whose target is 0 (every class's
    column, background RoIs included). For a positive k of class m:
    ``FP_k = sum_n H(z_n - z_k)``, ``rank_k = sum_{l in P_m} H(z_l - z_k) + FP_k``, ``err_k = FP_k / rank_k``.
    Value: ``sum_m mean_{k in P_m} err_k / K`` (K = foreground classes in the batch). Gradient, for the positives
    with ``FP_k > eps``: ``-err_k s_m`` on z_k and ``+ s_m H(z_n - z_k) / rank_k`` on every negative n, where
    ``s_m = lam w_m / (|P_m| K)``. (Negatives below ``min P_m - delta``, which the official code excludes, have
    H = 0 for every positive of m, so all negatives can be used.)

    Returns:
        the value (float32 scalar) and the gradient (float32, shape of ``logits``).
    """
    num_rois, num_classes = logits.shape
    flat = logits.detach().reshape(-1).double()
    fg = labels < num_classes
    pos_index = torch.nonzero(fg).squeeze(1) * num_classes + labels[fg]
    grad = torch.zeros_like(flat)
    if pos_index.numel() == 0:
        return logits.new_zeros((), dtype=torch.float32), grad.float().view_as(logits)
    pos_cls = labels[fg]
    is_neg = torch.ones_like(flat, dtype=torch.bool)
    is_neg[pos_index] = False
    pos, neg = flat[pos_index], flat[is_neg]

    fp = smooth_step_sums(neg, pos, delta)
    # positives of the same class: shift each class into its own range so one pass covers all classes; every
    # positive of a higher class then counts fully and is taken off again
    counts = torch.bincount(pos_cls, minlength=num_classes)
    span = float(pos.max() - pos.min()) + 2 * delta + 1
    keys = pos_cls.double() * span + pos
    higher = (counts.flip(0).cumsum(0).flip(0) - counts)[pos_cls]
    rank = smooth_step_sums(keys, keys, delta) - higher + fp
    err = fp / rank

    num_present = int((counts > 0).sum())
    per_pos = 1.0 / (counts[pos_cls].double() * num_present)
    value = (err * per_pos).sum()
    scale = lam * class_weight[pos_cls].double() * per_pos * (fp > eps)
    grad[pos_index] = -err * scale
    grad[is_neg] = weighted_smooth_steps(neg, pos, scale / rank, delta)
    return value.float(), grad.float().view_as(logits)


@register_into('MODELS', scopes=('mmdet',))
class ROGRankingLoss(torch.nn.Module):
    """ROG's global-level ranking (GAP) loss over the first C logits of every RoI, used as ``loss_rank`` beside
    any ``loss_cls`` (sigmoid CE, Seesaw, ...) by ``ROGShared2FCBBoxHead``.

    The value returned is the mean ranking error ``sum_m mean_{k in P_m} FP_k / rank_k / K`` (see
    ``gap_loss_and_grad``); its gradient is the official hand-built one, scaled by ``lam`` and the class weights
    ``w_m = (1/n_m)^gamma`` (renormalised to sum C) while the value is not, as in the official code. ``n_m`` is the
    buffer ``num_samples`` (C+1 RoI counts per label, background last), updated with this batch's labels before
    the weights are taken and, as in the official code, kept per rank (not all-reduced). The logits are read in
    float32. A batch without foreground RoIs gives 0.

    Args:
        num_classes: number of foreground classes C.
        gamma: exponent of the class weights. Default 1.0 (configs/rog).
        lam: scale of the gradient. Default 0.1.
        delta: half-width of the smoothed step (``delta_RS``); must be > 0. Default 0.5.
        loss_weight: multiplier of the value and the gradient (the official code has none: 1.0).
    """

    def __init__(self, num_classes: int, gamma: float = 1.0, lam: float = 0.1, delta: float = 0.5,
                 loss_weight: float = 1.0):
        super().__init__()
        if delta <= 0:
            raise ValueError(f'ROGRankingLoss needs delta > 0 (the smoothed step), got {delta}')
        self.num_classes = num_classes
        self.gamma = gamma
        self.lam = lam
        self.delta = delta
        self.loss_weight = loss_weight
        self.register_buffer('num_samples', torch.zeros(num_classes + 1, dtype=torch.float64))

    def forward(self, cls_score: Tensor, labels: Tensor) -> Tensor:
        """Args: cls_score (N, >= C) raw logits (only the first C columns are ranked); labels (N,) in 0..C."""
        if self.training:
            self.num_samples += torch.bincount(labels, minlength=self.num_classes + 1).to(self.num_samples)
        weight = rog_class_weights(self.num_samples[:self.num_classes], self.gamma)
        logits = cls_score[:, :self.num_classes].float()
        value, grad = gap_loss_and_grad(logits, labels, weight, self.lam, self.delta)
        surrogate = (logits * grad).sum()
        return self.loss_weight * (value + surrogate - surrogate.detach())
