"""Cumulative per-class gradient statistics shared by the gradient-guided losses (EQLv2, EFL): this iteration's
positive and negative gradient magnitudes per class, summed over every rank, added to the loss's buffers."""
import torch
from mmengine import dist
from torch import Tensor


@torch.no_grad()
def add_all_reduced_(pos_grad: Tensor, neg_grad: Tensor, pos: Tensor, neg: Tensor) -> None:
    """``pos_grad += sum_ranks pos`` and ``neg_grad += sum_ranks neg`` in place (one SUM all-reduce of both; a no-op
    reduction in a single process). Every rank must call it the same number of times, in the same order: it is a
    collective, so call it from the forward pass or a hook, never from a backward hook."""
    sums = torch.stack([pos, neg]).to(pos_grad)
    dist.all_reduce(sums, op='sum')
    pos_grad += sums[0]
    neg_grad += sums[1]
