"""EFL: Equalized Focal Loss, the one-stage counterpart of EQLv2.

Li et al., "Equalized Focal Loss for Dense Long-Tailed Object Detection", CVPR 2022 (arXiv 2201.02593). Official
code: ModelTC/EOD (United-Perception) ``up/tasks/det/plugins/efl/models/losses/efl.py`` (``EqualizedFocalLoss``),
the gradient collection in ``up/utils/general/hook_helper.py`` (``GradientCollector``), the recipe in
``configs/det/efl/efl_improved_baseline_r50_2x_rfs.yaml``. Licence Apache-2.0.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.autograd import Function

from ...core.registry import register_into
from .gradient_statistics import add_all_reduced_


def efl_gamma(pos_neg: Tensor, focal_gamma: float = 2.0, scale_factor: float = 8.0) -> Tensor:
    """The focusing factor of each class, ``gamma_j = focal_gamma + scale_factor * (1 - g_j)``, from the
    accumulated positive-to-negative gradient ratio ``g_j`` in [0, 1] (C,); float32, no gradient."""
    return (focal_gamma + scale_factor * (1 - pos_neg.detach())).float()


class _EqualizedFocalLossFunction(Function):
    """The EFL sum and its analytic gradient, computed together in float32: autograd would keep a dozen (N, C)
    intermediates of the loss graph, this keeps the gradient only, which the statistics need anyway."""

    @staticmethod
    def forward(ctx, cls_score: Tensor, labels: Tensor, gamma: Tensor, label_weights: Optional[Tensor],
                focal_gamma: float, focal_alpha: float) -> Tuple[Tensor, Tensor]:
        logits = cls_score.detach().float()
        gamma = gamma.detach().to(logits)
        weight = gamma / focal_gamma
        pos_alpha, neg_alpha = (focal_alpha, 1 - focal_alpha) if focal_alpha >= 0 else (1.0, 1.0)  # official
        row_weight = None if label_weights is None else label_weights.detach().float().unsqueeze(1)
        # every entry as a negative (p_t = 1 - p): l = (1 - alpha) w p^gamma softplus(z),
        # dl/dz = (1 - alpha) w p^gamma (p + gamma (1 - p) softplus(z))
        log_p, softplus = F.logsigmoid(logits), F.softplus(logits)  # ln p, -ln(1 - p)
        factor = (neg_alpha * weight) * torch.exp(gamma * log_p)
        if row_weight is not None:
            factor = factor * row_weight
        loss = factor * softplus
        grad = factor * (torch.exp(log_p) + gamma * torch.exp(-softplus) * softplus)
        # then the positive entries (p_t = p): l = alpha w (1 - p)^gamma (-ln p),
        # dl/dz = -alpha w (1 - p)^gamma ((1 - p) - gamma p ln p)
        rows = (labels < logits.size(1)).nonzero().squeeze(1)
        cols = labels[rows]
        z = logits[rows, cols]
        g = gamma[cols]
        log_pt, log_1mpt = F.logsigmoid(z), F.logsigmoid(-z)
        pos_factor = (pos_alpha * weight[cols]) * torch.exp(g * log_1mpt)
        if row_weight is not None:
            pos_factor = pos_factor * row_weight[rows, 0]
        loss[rows, cols] = pos_factor * -log_pt
        grad[rows, cols] = -pos_factor * (torch.exp(log_1mpt) - g * torch.exp(log_pt) * log_pt)
        ctx.input_dtype = cls_score.dtype
        ctx.save_for_backward(grad)
        ctx.mark_non_differentiable(grad)
        return loss.sum(), grad

    @staticmethod
    def backward(ctx, grad_loss: Tensor, _grad_of_grad: Optional[Tensor]):
        grad, = ctx.saved_tensors
        return (grad * grad_loss).to(ctx.input_dtype), None, None, None, None, None


def equalized_focal_loss(cls_score: Tensor, labels: Tensor, gamma: Tensor, label_weights: Optional[Tensor] = None,
                         focal_gamma: float = 2.0, focal_alpha: float = 0.25) -> Tuple[Tensor, Tensor]:
    """The unnormalised EFL sum ``sum_ij m_i alpha_t (gamma_j / focal_gamma) (1 - p_t)^gamma_j (-ln p_t)`` over
    anchors i and classes j, and its gradient with respect to the logits.

    ``ln p_t`` and ``(1 - p_t)^gamma`` come from log-sigmoids, so both stay finite for any finite logit. The backward
    pass returns the analytic gradient
    ``dl/dz_ij = -+ m_i alpha_t (gamma_j / focal_gamma) (1 - p_t)^gamma_j ((1 - p_t) - gamma_j p_t ln p_t)``
    (minus on positive entries), computed in the forward pass.

    Args:
        cls_score: logits (N, C), one per foreground class (no background column).
        labels: (N,) foreground ``0..C-1`` or background ``C`` (mmdet's dense-head convention).
        gamma: focusing factor per class (C,) (:func:`efl_gamma`), treated as a constant.
        label_weights: per-anchor weights ``m_i`` (N,), 0 for ignored anchors. Default all 1.
        focal_gamma: the base focusing factor ``gamma_b`` dividing the weighting factor ``gamma_j / gamma_b``.
        focal_alpha: positive weight ``alpha`` (``1 - alpha`` for negatives); no alpha weighting when negative.

    Returns:
        (loss, grad): the float32 sum (differentiable w.r.t. ``cls_score``) and ``d loss / d cls_score`` (N, C),
        float32, detached.
    """
    return _EqualizedFocalLossFunction.apply(cls_score, labels, gamma, label_weights, focal_gamma, focal_alpha)


@torch.no_grad()
def efl_gradient_sums(grad: Tensor, scale: Union[Tensor, float] = 1.0) -> Tuple[Tensor, Tensor]:
    """Per class, ``scale`` times the summed gradient magnitude over the positive entries and over the negative
    entries (C,) each, from the gradient of :func:`equalized_focal_loss`: a positive entry's gradient is <= 0, a
    negative entry's >= 0, so the sign tells them apart (and no "all minus positives" subtraction loses the small
    negative sums)."""
    return (-grad).clamp(min=0).sum(dim=0) * scale, grad.clamp(min=0).sum(dim=0) * scale


@register_into('MODELS', scopes=('mmdet',))
class EqualizedFocalLoss(nn.Module):
    """EFL: a sigmoid focal loss whose focusing factor and weight per class grow as the class receives fewer positive
    than negative gradient, for the classification branch of one-stage dense heads (RetinaHead, ATSSHead, FCOSHead).

    For anchor i and class j, ``p = sigmoid(z_ij)``, ``p_t = p`` if ``y_ij = 1`` else ``1 - p``, ``alpha_t = alpha`` or
    ``1 - alpha``: ``gamma_j = focal_gamma + scale_factor (1 - g_j)`` and
    ``L = loss_weight * sum_ij m_i alpha_t (gamma_j / focal_gamma) (1 - p_t)^gamma_j (-ln p_t) / max(avg_factor, 1)``
    (``m_i`` = ``label_weights``; ``gamma_j`` and the weight ``gamma_j / focal_gamma`` are constants). ``g_j`` is the
    ratio of the accumulated positive to negative gradient magnitudes of class j, ``|dL/dz_ij|`` summed over the
    positive (``pos_grad``) and the negative (``neg_grad``) entries of every anchor, rank and iteration so far (the
    gradient of the final loss: normaliser, loss weight and label weights included):
    ``g = clamp(pos_grad / (neg_grad + 1e-10), 0, 1)``, buffer ``pos_neg``, starting at 1 (plain focal loss with
    ``gamma = focal_gamma``).

    mmdet contract: ``loss_cls=dict(type='EqualizedFocalLoss', use_sigmoid=True, ...)`` (the heads read
    ``use_sigmoid`` from the config to build C class channels and score with the sigmoid at test time), called as
    ``loss_cls(cls_score (N, C), labels (N,) with C = background, label_weights (N,), avg_factor)``.

    Gradient statistics: each training call adds its gradient magnitudes (:func:`efl_gradient_sums`) to a local
    sum; the ``num_levels``-th call of an iteration (the head's last FPN level) all-reduces the sum over ranks
    (SUM), adds it to ``pos_grad`` / ``neg_grad`` and updates ``pos_neg``, as the official loss does after collecting
    its ``fpn_levels`` gradients. So every level of an iteration sees the statistics of the previous iterations, and
    the buffers (in the checkpoint, ``...loss_cls.pos_grad``; identical on every rank) never hold a partial iteration.
    The local sum is a plain attribute, not a buffer: DDP broadcasts rank 0's buffers at each forward.

    Deviations from the official code:
    - The gradient is computed analytically in the forward pass (:func:`equalized_focal_loss`, which also serves it
      as the loss's backward) rather than read from a backward hook on the classification conv (the EFL README
      allows it). Equal in float32; it also works under mixed precision, where the hook would see loss-scaled
      gradients, and needs no hook in the config.
    - ``ln p_t`` and ``(1 - p_t)^gamma`` come from log-sigmoids: the official ``-log(sigmoid(z))`` is inf (then nan
      gradients) for saturated logits, here the loss stays finite. Equal elsewhere.
    - Buffers in float64 (official float32): sums over hundreds of thousands of iterations keep their precision.
    - The normaliser is mmdet's ``avg_factor`` floored at 1: ATSSHead and FCOSHead pass the number of positives
      averaged over ranks, the official ``get_ave_normalizer``; RetinaHead passes the local number of positives (not
      averaged over ranks). Without ``avg_factor`` the sum is returned (official ``normalizer=None``).
    - Ignored anchors are those with ``label_weights`` 0 (mmdet) rather than label -1 (official).

    Args:
        num_classes: number of foreground classes C (1203 LVIS v1; the official ``num_classes=1204`` counts the
            background).
        use_sigmoid: must be True (sigmoid classifier with C channels); read by the mmdet heads from the config.
        focal_gamma: base focusing factor ``gamma_b``. Default 2.0 (official ``focal_gamma``, efl.py and the recipe).
        focal_alpha: positive weight ``alpha`` (``1 - alpha`` for negatives; no alpha weighting when negative).
            Default 0.25 (official ``focal_alpha``).
        scale_factor: ``s``, how much a class's focusing factor grows when its gradient ratio falls. Default 8.0
            (official ``scale_factor``).
        num_levels: calls of the loss per training iteration: the FPN levels of RetinaHead/ATSSHead (one call per
            level), 1 for FCOSHead (all levels in one call). Default 5 (official ``fpn_levels``).
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, num_classes: int, use_sigmoid: bool = True, focal_gamma: float = 2.0,
                 focal_alpha: float = 0.25, scale_factor: float = 8.0, num_levels: int = 5, loss_weight: float = 1.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if not use_sigmoid:
            raise ValueError('EqualizedFocalLoss is a sigmoid loss over C class logits: use_sigmoid must be True, '
                             f'got {use_sigmoid}')
        if focal_gamma <= 0:
            raise ValueError(f'focal_gamma must be > 0 (it divides the weighting factor), got {focal_gamma}')
        if num_levels < 1:
            raise ValueError(f'num_levels must be >= 1, got {num_levels}')
        self.num_classes = num_classes
        self.use_sigmoid = True
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.scale_factor = scale_factor
        self.num_levels = num_levels
        self.loss_weight = loss_weight
        self.register_buffer('pos_grad', torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer('neg_grad', torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer('pos_neg', torch.ones(num_classes, dtype=torch.float64))
        self._pending: Optional[Tensor] = None  # this iteration's local (pos, neg) sums, (2, C)
        self._calls = 0

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[Union[Tensor, float]] = None, reduction_override: Optional[str] = None) -> Tensor:
        if reduction_override not in (None, 'mean'):
            raise ValueError(f'EqualizedFocalLoss is a sum normalised by avg_factor; reduction_override='
                             f'{reduction_override!r} is not supported')
        self._check_inputs(cls_score, labels, label_weights)
        gamma = efl_gamma(self.pos_neg.to(cls_score.device), self.focal_gamma, self.scale_factor)
        normalizer = (torch.ones((), device=cls_score.device) if avg_factor is None else
                      torch.as_tensor(avg_factor, dtype=torch.float32, device=cls_score.device).clamp(min=1.0))
        loss, grad = equalized_focal_loss(cls_score, labels, gamma, label_weights, self.focal_gamma,
                                          self.focal_alpha)
        if self.training:
            self._accumulate(*efl_gradient_sums(grad, self.loss_weight / normalizer))
        return self.loss_weight * loss / normalizer

    def _check_inputs(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor]) -> None:
        if cls_score.dim() != 2 or cls_score.size(1) != self.num_classes:
            raise ValueError(f'cls_score must be (N, num_classes={self.num_classes}) (no background column: set '
                             f'use_sigmoid=True in loss_cls), got {tuple(cls_score.shape)}')
        if labels.shape != cls_score.shape[:1]:
            raise ValueError(f'labels must be ({cls_score.size(0)},), got {tuple(labels.shape)}')
        if label_weights is not None and label_weights.shape != labels.shape:
            raise ValueError(f'label_weights must be one weight per anchor ({labels.numel()},), got '
                             f'{tuple(label_weights.shape)}')
        if labels.numel() and (labels.min() < 0 or labels.max() > self.num_classes):
            raise ValueError(f'labels must lie in [0, {self.num_classes}] ({self.num_classes} = background), got '
                             f'[{labels.min().item()}, {labels.max().item()}]')

    @torch.no_grad()
    def _accumulate(self, pos: Tensor, neg: Tensor) -> None:
        """Add one call's sums to the iteration's; on the ``num_levels``-th call, update the statistics."""
        sums = torch.stack([pos, neg]).double()
        self._pending = sums if self._pending is None else self._pending + sums
        self._calls += 1
        if self._calls == self.num_levels:
            pending, self._pending, self._calls = self._pending, None, 0
            self.update_statistics(pending[0], pending[1])

    @torch.no_grad()
    def update_statistics(self, pos: Tensor, neg: Tensor) -> None:
        """Add one iteration's gradient sums of every rank (SUM all-reduce) and recompute ``pos_neg``."""
        add_all_reduced_(self.pos_grad, self.neg_grad, pos, neg)
        self.pos_neg.copy_((self.pos_grad / (self.neg_grad + 1e-10)).clamp(0, 1))
