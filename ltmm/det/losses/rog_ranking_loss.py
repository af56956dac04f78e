"""ROG's global ranking loss (the GAP objective), added beside the classification loss of a bbox head.

Zhang et al., "Reconciling Object-Level and Global-Level Objectives for Long-Tail Detection", ICCV 2023. Official
code: EricZsy/ROG ``mmdet/models/losses/gap_loss.py`` (``GAPLoss``, a custom autograd Function with a Python loop
over the positives of every class) and ``mmdet/models/roi_heads/bbox_heads/rog_convfc_bbox_head.py``.

Here the same value and the same hand-built gradient are computed without a loop over positives. The smoothed step
``H(x) = clamp(x / (2 delta) + 1/2, 0, 1)`` is piecewise linear, so every sum of ``H(v_j - q_k)`` over many values
v_j (the negatives) and few queries q_k (the positives) reduces to counts and sums of the values in the 2Q+1 bands cut
by the breakpoints ``q_k -+ delta``, and the gradient of every negative to one linear function per band. The N x C
logits are read a few times, elementwise (a grid lookup, two ``bincount``, one gather); none is sorted.
"""
from typing import NamedTuple, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ...core.registry import register_into


def _bands(queries: Tensor, delta: float) -> Tuple[Tensor, Tensor, Tensor]:
    """Sorted breakpoints ``q -+ delta`` of Q queries, and the positions of each query's lower / upper breakpoint."""
    edges, order = torch.cat([queries - delta, queries + delta]).sort()
    position = torch.empty_like(order)
    position[order] = torch.arange(order.numel(), device=order.device)
    num = queries.numel()
    return edges, position[:num], position[num:]


class _Segments(NamedTuple):
    """Values mapped to segments on which every smoothed step ``H(v - q_k)`` is linear.

    A uniform grid of cells is laid over the breakpoints; a value in a cell without breakpoint takes the cell as its
    segment (the cell lies inside one band), and only the values in the few cells that hold a breakpoint are placed
    in their band by binary search. Segment ids: ``0..G+1`` are cells, ``G+2+b`` is band b.
    """

    index: Tensor  # (V,) segment of every value
    band: Tensor  # (S,) band of every segment


def _segments(edges: Tensor, values: Tensor, cells_per_edge: int = 64) -> _Segments:
    """Band b holds ``edges[b-1] <= v < edges[b]`` (0 below all breakpoints, 2Q above all). The same float
    arithmetic puts values and breakpoints in cells, so a cell without breakpoint is exactly inside one band."""
    edges = edges.to(values.dtype)
    lowest = edges[0]
    num_cells = min(cells_per_edge * edges.numel(), 1 << 22)
    scale = num_cells / float(edges[-1] - lowest)  # breakpoints span >= 2 delta > 0

    offset = values.new_tensor(1 - float(lowest) * scale)

    def cell_of(x: Tensor) -> Tensor:  # 0: below the grid, num_cells + 1: at or above its top
        return torch.add(offset, x, alpha=scale).clamp_(0, num_cells + 1).to(torch.int32)

    edge_cells = torch.bincount(cell_of(edges), minlength=num_cells + 2)
    edges_below = F.pad(edge_cells.cumsum(0)[:-1], (1, 0))
    index = cell_of(values)
    refine = torch.nonzero((edge_cells > 0).index_select(0, index)).squeeze(1)
    index[refine] = num_cells + 2 + torch.searchsorted(edges, values[refine], right=True, out_int32=True)
    band = torch.cat([edges_below, torch.arange(edges.numel() + 1, device=edges.device)])
    return _Segments(index, band)


def _query_sums(segments: _Segments, values: Tensor, edges: Tensor, lo: Tensor, hi: Tensor, queries: Tensor,
                delta: float) -> Tensor:
    num_bands = edges.numel() + 1
    # per-segment sums in the values' precision: segments are short, and the long open-ended bands (below and above
    # all breakpoints) only ever enter through their counts
    per_segment = torch.stack([
        torch.bincount(segments.index, minlength=segments.band.numel()).double(),
        torch.bincount(segments.index, weights=values, minlength=segments.band.numel()).double()], dim=1)
    per_band = per_segment.new_zeros(num_bands, 2).index_add_(0, segments.band, per_segment)
    counts, sums = F.pad(per_band.cumsum(0), (0, 0, 1, 0)).unbind(1)
    full = counts[-1] - counts[hi + 1]
    ramp = (sums[hi + 1] - sums[lo + 1] - (queries - delta) * (counts[hi + 1] - counts[lo + 1])) / (2 * delta)
    return full + ramp


def _value_steps(segments: _Segments, values: Tensor, edges: Tensor, lo: Tensor, hi: Tensor, queries: Tensor,
                 query_weight: Tensor, delta: float) -> Tensor:
    ramp_slope = query_weight / (2 * delta)
    line = torch.zeros(edges.numel(), 2, dtype=torch.float64, device=edges.device)  # (intercept, slope) changes
    line[lo, 0] = -ramp_slope * (queries - delta)
    line[hi, 0] = query_weight + ramp_slope * (queries - delta)
    line[lo, 1] = ramp_slope
    line[hi, 1] = -ramp_slope
    intercept, slope = F.pad(line.cumsum(0), (0, 0, 1, 0))[segments.band].to(values.dtype).T.contiguous()
    return torch.addcmul(intercept.index_select(0, segments.index), slope.index_select(0, segments.index), values)


def smooth_step_sums(values: Tensor, queries: Tensor, delta: float) -> Tensor:
    """``S_k = sum_j H(values_j - queries_k)`` for every query (float64). A band above ``q_k + delta`` counts fully;
    a band inside ``(q_k -+ delta)`` counts ``(v - q_k + delta) / (2 delta)`` summed, from the band's count and sum.
    ``queries`` must be float64."""
    edges, lo, hi = _bands(queries, delta)
    return _query_sums(_segments(edges, values), values, edges, lo, hi, queries, delta)


def weighted_smooth_steps(values: Tensor, queries: Tensor, query_weight: Tensor, delta: float) -> Tensor:
    """``G_j = sum_k a_k H(values_j - queries_k)`` for every value (dtype of ``values``). G is linear inside a band:
    a query starts a ramp of slope ``a_k / (2 delta)`` at its lower breakpoint and turns into the constant ``a_k``
    at its upper one; the per-band lines are accumulated in float64, then each value costs one lookup.
    ``queries`` and ``query_weight`` must be float64."""
    edges, lo, hi = _bands(queries, delta)
    return _value_steps(_segments(edges, values), values, edges, lo, hi, queries, query_weight, delta)


def rog_class_weights(num_samples: Tensor, gamma: float) -> Tensor:
    """``w_m = (1 / n_m)^gamma`` renormalised to sum to C, from RoI counts clamped to >= 1."""
    w = num_samples.clamp(min=1).double().reciprocal().pow(gamma)
    return w / (w.sum() + 1e-9) * num_samples.numel()


def gap_loss_and_grad(cls_score: Tensor, labels: Tensor, num_classes: int, class_weight: Tensor, lam: float,
                      delta: float, eps: float = 1e-10) -> Tuple[Tensor, Tensor]:
    """The GAP ranking error over the first ``num_classes`` columns of ``cls_score`` and its official gradient.

    Every (RoI, class) logit of the (N, C) class logits is one entry of a global ranking. Class m's positives P_m
    are the entries ``(i, m)`` with ``labels_i = m``; the negatives are all entries whose target is 0 (every class's
    column, background RoIs included). For a positive k of class m:
    ``FP_k = sum_n H(z_n - z_k)``, ``rank_k = sum_{l in P_m} H(z_l - z_k) + FP_k``, ``err_k = FP_k / rank_k``.
    Value: ``sum_m mean_{k in P_m} err_k / K`` (K = foreground classes in the batch). Gradient, for the positives
    with ``FP_k > eps``: ``-err_k s_m`` on z_k and ``+ s_m H(z_n - z_k) / rank_k`` on every negative n, where
    ``s_m = lam w_m / (|P_m| K)``. (Negatives below ``min P_m - delta``, which the official code excludes, have
    H = 0 for every positive of m, so all negatives can be used.)

    The N x W matrix is never copied or masked: sums over all its entries are computed once (one ``searchsorted``,
    two ``bincount``), and the few entries that are not negatives (the positives, the columns beyond C) are
    subtracted.

    Returns:
        the value (float32 scalar) and the gradient w.r.t. ``cls_score`` (float32, (N, W); zero beyond column C).
    """
    scores = cls_score.detach().float().contiguous()
    fg = labels < num_classes
    rois = torch.nonzero(fg).squeeze(1)
    pos_cls = labels[fg]
    if rois.numel() == 0:
        return scores.new_zeros(()), torch.zeros_like(scores)
    pos = scores[rois, pos_cls].double()
    extra = scores[:, num_classes:].reshape(-1).contiguous()

    # FP_k over the negatives = over every entry, minus the extra columns, minus the positives; the bands of all
    # entries serve the gradient too
    flat = scores.view(-1)
    edges, lo, hi = _bands(pos, delta)
    segments = _segments(edges, flat)
    fp = _query_sums(segments, flat, edges, lo, hi, pos, delta) - smooth_step_sums(pos, pos, delta)
    if extra.numel():
        fp = fp - smooth_step_sums(extra, pos, delta)
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
    grad = _value_steps(segments, flat, edges, lo, hi, pos, scale / rank, delta).view_as(scores)
    grad[:, num_classes:] = 0
    grad[rois, pos_cls] = (-err * scale).float()
    return value.float(), grad


class _GivenGradient(torch.autograd.Function):
    """A scalar ``value`` whose gradient w.r.t. ``inputs`` is ``grad`` (times the incoming gradient), the form of the
    official ``GAPLoss`` Function. ``grad`` stays float32 until it has been multiplied by the incoming gradient and is
    cast to the dtype of ``inputs`` last: under fp16 AMP the incoming gradient carries the loss scale (e.g. 2^16), and
    casting the small hand-built gradient to fp16 first would flush most of its entries to zero."""

    @staticmethod
    def forward(ctx, inputs: Tensor, value: Tensor, grad: Tensor) -> Tensor:  # noqa: D102
        ctx.save_for_backward(grad)
        ctx.input_dtype = inputs.dtype
        return value.clone()

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # noqa: D102
        grad, = ctx.saved_tensors
        return (grad * grad_output.float()).to(ctx.input_dtype), None, None


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
        value, grad = gap_loss_and_grad(cls_score, labels, self.num_classes, weight, self.lam, self.delta)
        return self.loss_weight * _GivenGradient.apply(cls_score, value, grad)
