"""LADE: the prior-compensated cross-entropy plus the LADER regulariser (Hong et al., "Disentangling Label
Distribution for Long-tailed Visual Recognition", CVPR 2021)."""
import math
from typing import Optional, Tuple

import torch
import torch.distributed as dist

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy

# The official epsilons (hyperconnect/LADE loss/LADELoss.py, loss/PriorCELoss.py): inside log(prior + 1e-9) and in
# the per-class sample count N_c + 1e-8 (which makes the class mean of a class absent from the batch 0).
PRIOR_EPS = 1e-9
COUNT_EPS = 1e-8


def prior_ce_loss(logits: torch.Tensor, target: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Per-sample prior-compensated cross-entropy ("LADE-CE", the official ``PriorCELoss``),
    ``CE(f(x) + log(pi + 1e-9), y)``, shape (N,).

    Args:
        logits: raw logits ``f(x)`` (N, C).
        target: class probabilities (N, C) (one-hot, or soft under mixup).
        prior: the training class prior ``pi`` (C,).
    """
    return soft_cross_entropy(logits + torch.log(prior + PRIOR_EPS), target)


def lader_loss(logits: torch.Tensor, target: torch.Tensor, prior: torch.Tensor,
               remine_lambda: float = 0.1) -> torch.Tensor:
    """The LADER regulariser of one batch (a scalar): ``-sum_c pi_c (A_c - B_c - lambda B_c^2)``.

    For each class c, over the N samples of the batch:

    - ``A_c = sum_{i: y_i = c} f_c(x_i) / (N_c + 1e-8)``, the mean class-c logit of the samples of class c (0 when
      c is absent from the batch);
    - ``B_c = log((1/N) sum_{i=1..N} exp(f_c(x_i) - log(pi_c + 1e-9) + log(1/C + 1e-9)))``, a log-mean-exp over
      **all** N samples (the Donsker-Varadhan term);
    - ``lambda B_c^2`` is the ReMINE regulariser.

    The sum runs over every class, present in the batch or not, weighted by the training prior. With soft labels
    the class-c samples are weighted by ``y_ic`` (``N_c = sum_i y_ic``); one-hot labels give the official value.

    Args:
        logits: raw logits ``f(x)`` (N, C).
        target: class probabilities (N, C).
        prior: the training class prior ``pi`` (C,).
        remine_lambda: ``lambda``.
    """
    num_samples, num_classes = logits.shape
    class_mean = (target * logits).sum(dim=0) / (target.sum(dim=0) + COUNT_EPS)
    shifted = logits - torch.log(prior + PRIOR_EPS) + math.log(1.0 / num_classes + PRIOR_EPS)
    log_mean_exp = torch.logsumexp(shifted, dim=0) - math.log(num_samples)
    estimate = class_mean - log_mean_exp - remine_lambda * log_mean_exp.pow(2)
    return -(prior * estimate).sum()


class _GatherRows(torch.autograd.Function):
    """All ranks' rows concatenated in rank order (the ranks may hold different numbers of rows); the backward pass
    sums the gradient of the gathered tensor over the ranks and returns this rank's rows."""

    @staticmethod
    def forward(ctx, local: torch.Tensor) -> torch.Tensor:
        world_size = dist.get_world_size()
        size = torch.tensor([local.size(0)], device=local.device)
        sizes = [torch.zeros_like(size) for _ in range(world_size)]
        dist.all_gather(sizes, size)
        sizes = [int(s) for s in sizes]
        padded = local.new_zeros((max(sizes), ) + local.shape[1:])
        padded[:local.size(0)] = local
        gathered = [torch.empty_like(padded) for _ in range(world_size)]
        dist.all_gather(gathered, padded.contiguous())
        ctx.row_start = sum(sizes[:dist.get_rank()])
        ctx.row_count = local.size(0)
        return torch.cat([rows[:n] for rows, n in zip(gathered, sizes)])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.row_start:ctx.row_start + ctx.row_count]


def gather_batch(logits: torch.Tensor, target: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The logits and targets of every rank (the global batch), the logits differentiable towards this rank's own
    rows; unchanged when no process group of more than one rank runs."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return logits, target
    return _GatherRows.apply(logits), _GatherRows.apply(target.detach())


@register_into('MODELS', scopes=('mmpretrain',))
class LADELoss(ClassificationLoss):
    """LADE: ``L = mean_i CE(f(x_i) + log pi, y_i) + alpha * L_LADER`` on the raw logits ``f(x)`` of a linear head.

    Official code: hyperconnect/LADE (commit 5db5d134; the survey's ``Main-codebase/loss/LADELoss.py`` is the same
    file). The first term is ``loss/PriorCELoss.py`` (the paper's LADE-CE, Balanced Softmax in logit form), the
    second ``loss/LADELoss.py`` (see :func:`lader_loss`), summed by ``run_networks.py`` ``batch_loss`` as
    ``PerformanceLoss`` (weight 1) + ``RouteWeightLoss`` (weight ``alpha``) on the same logits. Both use the prior of
    the training counts, ``pi = n / sum(n)``, with the official epsilons. Test time: ``f(x)`` estimates the
    balanced posterior, so a uniform test split uses the raw logits, and a known target prior ``pi_t`` uses
    ``f(x) + log pi_t`` (``LogitAdjustedClsHead(tau=0.0, target_prior=...)``).

    The LADER term depends on the batch: its ``-log N`` and its per-class means are batch statistics. The official
    runs used ``nn.DataParallel``, i.e. the statistics of the whole batch over all GPUs. ``sync=True`` (default)
    gathers the logits and labels of every rank and computes LADER on the global batch, with gradients reaching
    every rank's own samples (summed over ranks, so that DDP's mean of the parameter gradients is the gradient of
    the global loss, as under DataParallel); ``sync=False`` computes it on each rank's batch. The cross-entropy
    term is a per-sample mean, the same either way. On one process both are the same.

    Deviations from the official code:

    - the counts come from ``class_stats`` (the official reads ``prior_txt`` or the CIFAR formula ``img_max``,
      ``prior``); a class without training samples raises a ValueError naming it (the official ``prior_txt``
      reader fails on it with a KeyError; the CIFAR formula never gives one);
    - soft labels (mixup) are accepted (see :func:`lader_loss`); the official takes class indices only;
    - only ``reduction='mean'``: LADER is a batch-level estimate, without a per-sample form to sum or return.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        alpha: weight of LADER. Default 0.1, the official ``--alpha`` default (``main.py``, which always overrides
            the yaml's ``RouteWeightLoss.weight``); the README runs use 0.1 on CIFAR-100-LT, 0.05 on ImageNet-LT and
            iNaturalist, 0.005 on Places-LT. 0 leaves the prior-compensated cross-entropy alone.
        remine_lambda: ``lambda`` of the ReMINE term. Default 0.1 (``LADELoss.create_loss`` and every official
            ``lade.yaml``); the README runs pass 0.01 on CIFAR-100-LT, 0.5 on ImageNet-LT, 0.1 on Places-LT.
        sync: compute LADER on the batch of all ranks (default True, the official DataParallel statistics) or on
            each rank's own batch (False).
        loss_weight: multiplies the whole loss. Default 1.0.
        reduction: 'mean' only (see above).
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, alpha: float = 0.1,
                 remine_lambda: float = 0.1, sync: bool = True, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        self._check_reduction('reduction', reduction)
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        if remine_lambda < 0:
            raise ValueError(f'remine_lambda must be >= 0, got {remine_lambda}')
        self.alpha = float(alpha)
        self.remine_lambda = float(remine_lambda)
        self.sync = bool(sync)
        counts = self.class_counts.double()
        self.register_buffer('prior', (counts / counts.sum()).float(), persistent=False)

    @staticmethod
    def _check_reduction(name: str, reduction: str) -> None:
        if reduction != 'mean':
            raise ValueError(f'LADELoss: {name}={reduction!r}, but only "mean" is defined (the LADER term is a batch '
                             'estimate with no per-sample value)')

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (N, C) raw logits; label (N,) class indices or (N, C) soft labels; weight: must be None
        (LADER has no per-sample weighting); avg_factor: denominator of the cross-entropy mean (mmpretrain passes
        N); reduction_override: None or 'mean'."""
        if reduction_override is not None:
            self._check_reduction('reduction_override', reduction_override)
        if weight is not None:
            raise ValueError('LADELoss: sample weights are not defined for the LADER term; pass weight=None')
        logits, target = self.prepare(cls_score, label)
        loss = self.reduce(prior_ce_loss(logits, target, self.prior), target, None, 'mean', avg_factor)
        if self.alpha:
            if self.sync:
                logits, target = gather_batch(logits, target)
            loss = loss + self.alpha * lader_loss(logits, target, self.prior, self.remine_lambda)
        return self.loss_weight * loss
