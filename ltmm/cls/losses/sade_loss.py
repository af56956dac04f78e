"""SADE: diversity-promoting expert losses and the test-time self-supervised aggregation objective (Zhang et al.,
"Self-Supervised Aggregation of Diverse Experts for Test-Agnostic Long-Tailed Recognition", NeurIPS 2022; official
code Vanint/SADE-AgnosticLT, MIT licence, read at commit cba11b8b).

Training (``model/loss.py`` ``DiverseExpertLoss``, lines 244-286): three experts on RIDE's multi-expert network (each a
cosine classifier x ``s = 30``, the scale applied in the model, so the logits ``z_k`` below already include it), one
loss per expert, summed::

    L = CE(z_1, y)                                                   # forward-LT expert: plain softmax
      + CE(z_2 + log(pi + 1e-9), y)                                  # uniform expert: balanced softmax
      + CE(z_3 + log(pi + 1e-9) - tau * log(pi_inv + 1e-9), y)       # backward-LT expert: inverse prior, tau = 2

``pi = n / sum(n)`` is the training prior and ``pi_inv`` its "inverse" (``inverse_prior``, lines 255-261): the prior's
values sorted and handed out in reverse rank order, so the class with the k-th smallest prior gets the k-th largest
prior value. Prediction: the mean of the raw expert logits (``Expert_ResNeXt.py``: ``output`` = mean over experts).

Test-time aggregation (``test_training_imagenet.py`` / ``test_training_cifar.py``, ``main`` and ``test_training``):
learnable expert weights ``w`` (K values, initialised to 1/3), normalised as ``softmax(w)``, are trained on the
*unlabelled* test images: each image gives two augmented views, each view the aggregated prediction
``p = softmax(sum_k softmax(w)_k z_k)``, and the objective maximises the views' mean cosine similarity
(:func:`sade_stability_loss`, ``loss = -cos``). SGD (the test-time config's lr, momentum 0.9, nesterov, weight
decay) on shuffled batches of 128 for 5 epochs, stopping after an epoch in which a weight rounded to two decimals
falls below 0.05 (:func:`learn_expert_weights`). The final logits are ``sum_k softmax(w)_k z_k`` (the multi-expert
head's ``fusion=dict(type='weighted', weights=...)``). Data and model plumbing: ``ltmm.engine.sade_aggregation``.
"""
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy

PRIOR_EPS = 1e-9  # the official ``log(prior + 1e-9)`` (model/loss.py lines 278, 283)


def inverse_prior(prior: torch.Tensor) -> torch.Tensor:
    """SADE's inverted prior (``DiverseExpertLoss.inverse_prior``): the values of ``prior`` handed out in reverse rank
    order, ``pi_inv[c] = sorted(pi)[C - 1 - rank(c)]`` with ``rank(c)`` the position of class c in ascending order.

    Ties (classes with equal counts, frequent on ImageNet-LT and at the tail of CIFAR-LT) are ranked by class index
    (a stable sort); the official ``torch.sort`` is not stable by contract, so there the tied classes may receive
    each other's mirrored values (only where the mirrored positions hold different values).

    Args:
        prior: (C,) class prior (or counts: the result has the same scale as the input).
    """
    if prior.dim() != 1:
        raise ValueError(f'inverse_prior needs a 1-D prior, got shape {tuple(prior.shape)}')
    values, order = torch.sort(prior, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(prior.numel(), device=prior.device)
    return values[prior.numel() - 1 - rank]


def sade_logit_adjustments(counts, tau: float = 2.0) -> torch.Tensor:
    """The additive adjustment of each expert's logits in SADE's loss, shape (3, C), float32: ``0`` (forward-LT),
    ``log(pi + 1e-9)`` (uniform) and ``log(pi + 1e-9) - tau * log(pi_inv + 1e-9)`` (backward-LT).

    As the official code, ``pi`` is computed in float64 (NumPy), then cast to float32, and the logarithms are taken
    in float32.

    Args:
        counts: (C,) training counts (zeros allowed: the epsilon keeps the logarithm finite, as the official code).
        tau: strength of the inverse prior of the backward-LT expert. Default 2.0 (``DiverseExpertLoss(tau=2)``,
            the CIFAR-100-LT and ImageNet-LT configs; the iNaturalist 2018 config uses 1).
    """
    n = np.asarray(counts, dtype=np.float64)
    prior = torch.from_numpy(n / n.sum()).float()
    log_prior = torch.log(prior + PRIOR_EPS)
    backward = log_prior - tau * torch.log(inverse_prior(prior) + PRIOR_EPS)
    return torch.stack([torch.zeros_like(log_prior), log_prior, backward])


def sade_expert_losses(expert_logits: torch.Tensor, target: torch.Tensor,
                       adjustments: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-expert cross-entropies ``CE(z_k + a_k, y)``, shape (N, K).

    Args:
        expert_logits: (N, K, C) expert logits (already scaled by ``s``).
        target: (N, C) class probabilities (one-hot for hard labels).
        adjustments: (K, C) additive logit adjustments (:func:`sade_logit_adjustments`).
    """
    if expert_logits.dim() != 3 or expert_logits.shape[1:] != adjustments.shape:
        raise ValueError(f'expected expert logits of shape (N, {adjustments.size(0)}, {adjustments.size(1)}), got '
                         f'{tuple(expert_logits.shape)}')
    return torch.stack([soft_cross_entropy(expert_logits[:, k] + adjustments[k], target)
                        for k in range(adjustments.size(0))], dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class SADELoss(ClassificationLoss):
    """SADE's diversity-promoting expertise-guided loss for the (N, 3, C) expert logits of ``MultiExpertClsHead``:
    expert 1 plain softmax CE (forward long-tailed), expert 2 balanced softmax (uniform), expert 3 the inverse-prior
    loss (backward long-tailed); see the module docstring for the formula and :func:`sade_logit_adjustments`.

    Normalisation: the experts' per-sample losses are summed and the sum averaged over the batch (``avg_factor``,
    the batch size ``MultiExpertClsHead`` passes), which equals the official sum of the three batch-mean
    cross-entropies. Each sample's loss is independent of the rest of the batch, so DDP training is exact. The
    official ``max_m`` and ``s`` arguments are unused by its code and not taken here. Soft labels (mixup) would
    give ``-sum_k y_k log softmax(.)_k`` per expert; ``MultiExpertClsHead`` refuses them.

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); a zero count is allowed, as the
            official ``log(pi + 1e-9)``.
        num_classes: ``C``, checked against ``class_stats`` when given (``MultiExpertClsHead`` fills it in).
        tau: strength of the backward-LT expert's inverse prior. Default 2.0 (``DiverseExpertLoss(tau=2)``,
            ``configs/config_cifar100_ir100_sade.json``, ``config_imagenet_lt_resnext50_sade.json``); the
            iNaturalist 2018 config uses 1.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none' (per sample, summed over experts), 'mean' or 'sum'. Default 'mean'.
    """
    multi_expert = True
    logit_shape = ('N', 'K', 'C')
    num_experts = 3

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, tau: float = 2.0,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, allow_zero=True)
        if not np.isfinite(tau) or tau < 0:
            raise ValueError(f'SADELoss: tau must be finite and >= 0, got {tau}')
        if self.stats.image_count.sum() <= 0:
            raise ValueError(f'SADELoss: class_stats from {self.stats.source} has no training image')
        self.tau = float(tau)
        self.register_buffer('adjustments', sade_logit_adjustments(self.stats.image_count, self.tau),
                             persistent=False)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if logits.size(1) != self.num_experts:
            raise ValueError(f'SADELoss trains exactly {self.num_experts} experts (forward-LT, uniform, backward-LT), '
                             f'got expert logits of shape {tuple(logits.shape)}; set the head\'s num_experts=3')
        return sade_expert_losses(logits, target, self.adjustments).sum(dim=1)


# ---------------------------------------------------------------------------------- test-time aggregation


def aggregate_expert_logits(expert_logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum_k weights_k z_k``, shape (N, C), for expert logits (N, K, C) and weights (K,)."""
    if expert_logits.dim() != 3 or expert_logits.size(1) != weights.numel():
        raise ValueError(f'{weights.numel()} expert weights for expert logits of shape {tuple(expert_logits.shape)} '
                         '(expected (N, K, C))')
    return torch.einsum('k,nkc->nc', weights.to(expert_logits.dtype), expert_logits)


def sade_stability_loss(weight_logits: torch.Tensor, view0: torch.Tensor, view1: torch.Tensor) -> torch.Tensor:
    """SADE's prediction-stability objective (``test_training``): ``-mean_i cos(p_i^0, p_i^1)`` with
    ``p^v = softmax(sum_k softmax(w)_k z_k^v)`` over the classes, ``cos`` as ``nn.CosineSimilarity(dim=1,
    eps=1e-6)``.

    Args:
        weight_logits: the learnable ``w`` (K,); the expert weights are ``softmax(w)``.
        view0: (N, K, C) expert logits of the first augmented view of N images.
        view1: (N, K, C) expert logits of the second view of the same images.
    """
    if view0.shape != view1.shape:
        raise ValueError(f'the two views have expert logits of different shapes {tuple(view0.shape)} and '
                         f'{tuple(view1.shape)}')
    weights = F.softmax(weight_logits, dim=0)
    p0 = F.softmax(aggregate_expert_logits(view0.float(), weights), dim=1)
    p1 = F.softmax(aggregate_expert_logits(view1.float(), weights), dim=1)
    return -F.cosine_similarity(p0, p1, dim=1, eps=1e-6).mean()


@dataclass
class AggregationResult:
    """What :func:`learn_expert_weights` learned: the expert weights ``softmax(w)`` (unrounded), the mean stability
    loss and the weights after each epoch, how many epochs ran and whether the early stop ended the run."""
    weights: List[float]
    epoch_losses: List[float] = field(default_factory=list)
    epoch_weights: List[List[float]] = field(default_factory=list)
    epochs_run: int = 0
    stopped_early: bool = False


def build_weight_optimizer(params: List[torch.Tensor], optimizer: dict) -> torch.optim.Optimizer:
    """A ``torch.optim`` optimiser from ``dict(type='SGD', lr=..., ...)``."""
    optimizer = dict(optimizer)
    name = optimizer.pop('type', 'SGD')
    cls = getattr(torch.optim, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f'test-time aggregation: optimizer type must name a torch.optim optimiser, got {name!r}')
    return cls(params, **optimizer)


def learn_expert_weights(view_pairs: Callable[[], Iterable[Tuple[torch.Tensor, torch.Tensor]]], num_experts: int = 3,
                         epochs: int = 5, optimizer: Optional[dict] = None, min_weight: float = 0.05,
                         init: Optional[float] = None) -> AggregationResult:
    """SADE's test-time self-supervised aggregation: learn ``w`` (K,) by minimising :func:`sade_stability_loss`
    over ``epochs`` passes of ``view_pairs``, one optimiser step per batch, as the official ``main`` /
    ``test_training`` loop.

    Early stop (official ``main``): after each epoch, ``softmax(w)`` is rounded to two decimals; if any rounded
    weight is below ``min_weight`` the loop ends. The returned weights are the unrounded ``softmax(w)``, which is
    what the official evaluation aggregates with.

    Args:
        view_pairs: called once per epoch; yields ``(view0, view1)``, the (N, K, C) expert logits of two augmented
            views of each image of a batch (computed without gradient: only ``w`` learns; the official code runs the
            model in ``eval()`` mode and steps an optimiser that holds ``w`` alone).
        num_experts: ``K``. Default 3.
        epochs: passes over the data. Default 5 (``configs/test_time_*_sade.json`` ``epochs``).
        optimizer: ``dict(type='SGD', lr=..., momentum=..., nesterov=..., weight_decay=...)``; default the
            ImageNet-LT test-time config's SGD lr 0.025, momentum 0.9, nesterov, weight decay 5e-4 (the CIFAR-100
            one uses lr 0.1, iNaturalist lr 0.2 with weight decay 2e-4).
        min_weight: the early-stop threshold. Default 0.05 (official).
        init: initial value of every ``w_k``; default ``1 / K`` (the official ``fill_(1/3)``). Weight decay acts on
            ``w``, so the initial value matters.

    Raises:
        ValueError: bad arguments, or an epoch without data.
    """
    if num_experts < 1 or epochs < 1 or not 0 <= min_weight < 1:
        raise ValueError(f'learn_expert_weights needs num_experts >= 1, epochs >= 1 and 0 <= min_weight < 1, got '
                         f'{num_experts}, {epochs}, {min_weight}')
    optimizer = dict(type='SGD', lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4) \
        if optimizer is None else optimizer
    weight_logits = torch.full((num_experts, ), 1.0 / num_experts if init is None else float(init),
                               requires_grad=True)
    optim = build_weight_optimizer([weight_logits], optimizer)
    result = AggregationResult(weights=[])
    for _ in range(epochs):
        total, count = 0.0, 0
        for view0, view1 in view_pairs():
            if view0.dim() != 3 or view0.size(1) != num_experts:
                raise ValueError(f'expected (N, {num_experts}, C) expert logits per view, got {tuple(view0.shape)}')
            loss = sade_stability_loss(weight_logits, view0.detach().cpu(), view1.detach().cpu())
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += float(loss.detach()) * view0.size(0)
            count += view0.size(0)
        if count == 0:
            raise ValueError('test-time aggregation: an epoch yielded no images')
        weights = F.softmax(weight_logits.detach(), dim=0)
        result.epochs_run += 1
        result.epoch_losses.append(total / count)
        result.epoch_weights.append(weights.tolist())
        if (np.round(weights.numpy(), decimals=2) < min_weight).any():
            result.stopped_early = True
            break
    result.weights = F.softmax(weight_logits.detach(), dim=0).tolist()
    return result
