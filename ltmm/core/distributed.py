"""Task-agnostic collective helpers for losses that contrast features across ranks (torch.distributed only, no
framework import): a gather without gradient for queues, a gather whose backward is the exact full-batch one, and an
in-place broadcast for state that must be rank-identical.

The gathers need the same first dimension on every rank (``all_gather``'s contract; the contrastive recipes drop the
last incomplete batch). Outside an initialised process group, or with one rank, all three are the identity.
"""
from typing import Tuple

import torch
import torch.distributed as torch_dist


def rank_and_world_size() -> Tuple[int, int]:
    """``(rank, world_size)`` of the default process group; ``(0, 1)`` when none is initialised."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_rank(), torch_dist.get_world_size()
    return 0, 1


def _all_gather_cat(x: torch.Tensor) -> torch.Tensor:
    parts = [torch.empty_like(x) for _ in range(torch_dist.get_world_size())]
    torch_dist.all_gather(parts, x)
    return torch.cat(parts, dim=0)


@torch.no_grad()
def concat_all_gather(x: torch.Tensor) -> torch.Tensor:
    """Every rank's ``x`` concatenated along dim 0 in rank order, detached (no gradient flows back). One rank: ``x``
    itself, detached.

    Args:
        x: ``(B, ...)``, the same shape and dtype on every rank.
    """
    x = x.detach()
    if rank_and_world_size()[1] == 1:
        return x
    return _all_gather_cat(x.contiguous())


class _GatherWithGrad(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.batch = torch_dist.get_rank(), x.shape[0]
        return _all_gather_cat(x.contiguous())

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        torch_dist.all_reduce(grad, op=torch_dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.batch:(ctx.rank + 1) * ctx.batch]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Every rank's ``x`` concatenated along dim 0 in rank order, differentiable.

    Backward: each rank receives its own slice of the **sum over ranks** of the gradients arriving at the gathered
    tensor (an ``all_reduce``). So when rank ``r`` computes ``L_r = (1/n) sum_{a on rank r} l_a`` over its ``n``
    local anchors against the gathered contrast set, DDP's average of the parameter gradients over the ``W`` ranks
    is exactly the gradient of the single-process full-batch loss ``L = (1/(W n)) sum_a l_a``: the gathered path
    brings ``(1/n) sum_a dl_a / dz_j`` to the rank owning ``z_j``, the anchors' own path ``(1/n) dl_a / dz_a``, and
    DDP divides both by ``W``. mmpretrain's ``SimCLR.GatherLayer`` returns this rank's slice without the reduction,
    so with every rank computing the full-batch loss the DDP gradient is ``1/W`` of the full-batch one (research
    note contrastive.md §1.2). One rank: ``x`` itself.

    Args:
        x: ``(B, ...)``, the same shape and dtype on every rank.
    """
    if rank_and_world_size()[1] == 1:
        return x
    return _GatherWithGrad.apply(x)


@torch.no_grad()
def broadcast_(x: torch.Tensor, src: int = 0) -> torch.Tensor:
    """Overwrite ``x`` in place with rank ``src``'s ``x`` and return it (for state that must be rank-identical:
    an assignment, generated targets). One rank: ``x`` unchanged. ``x`` must live on a device the backend serves
    (CPU for gloo, CUDA for NCCL)."""
    if rank_and_world_size()[1] > 1:
        torch_dist.broadcast(x, src=src)
    return x
