"""Supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020): the weighted form
that PaCo, KCL, TSC, BCL and SBCL build on (:func:`supcon_loss`) and SupContrast's module (:class:`SupConLoss`).

Official code (BSD-2-Clause; re-implemented from its maths, nothing copied): HobbitLong/SupContrast@66a8fe53
``losses.py`` (``SupConLoss``, lines 11-106).
"""
from typing import Optional

import torch
import torch.nn as nn

from ...core.registry import register_into

CONTRAST_MODES = ('all', 'one')


def supcon_loss(logits: torch.Tensor, pos_weight: torch.Tensor, denom_weight: Optional[torch.Tensor] = None,
                scale: float = 1.0, pos_norm: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The weighted supervised contrastive loss of ``A`` anchors against ``N`` contrast columns, a scalar.

    Per anchor ``a``::

        log p_an = l_an - log sum_k d_ak exp(l_ak)
        m_a      = sum_n w_an log p_an / sum_n w_an
        loss     = -scale * mean_a m_a

    with ``l`` the logits, ``w`` the positive weights and ``d`` the denominator weights. SupCon: ``w`` the same-label
    mask without the anchor itself, ``d`` all ones but the anchor itself, ``scale = T / base_T``
    (:class:`SupConLoss`); PaCo puts ``beta`` on the anchor's class-centre column and ``alpha`` on same-class samples.

    Computed in float32 whatever the input dtype (the inputs are cast first), with the detached row maximum of the
    logits subtracted (it cancels in ``log p``; SupContrast ``losses.py`` lines 72-74) and the denominator as a
    log-sum-exp over ``l + log d`` (columns with ``d = 0`` drop out exactly).

    An anchor with no positive (``sum_n w_an = 0``) contributes 0 and still counts in the mean: the behaviour of
    SupContrast's current ``losses.py`` (lines 91-100, the sum of positives replaced by 1). Older copies of that file
    (used by the official BCL, SBCL, TSC and PaCo code) divide by zero there and give NaN.

    Args:
        logits: ``(A, N)`` logits, already scaled (e.g. ``z_a . z_n / T`` plus any offset a method adds).
        pos_weight: ``(A, N)`` positive weights ``w >= 0`` (0: not a positive). Not differentiated.
        denom_weight: ``(A, N)`` weights ``d >= 0`` of ``exp(l)`` in the denominator (0 excludes a column, e.g. the
            anchor itself). Default None: all ones. Not differentiated. Every anchor with a positive needs a
            non-empty denominator.
        scale: multiplies the loss (SupCon's ``T / base_T``). Default 1.0.
        pos_norm: ``(A,)`` per-anchor divisors replacing ``sum_n w_an`` (TSC counts its target as a whole positive
            in the divisor while weighting it ``tw``). Default None: ``sum_n w_an``. A zero divisor counts as 1.

    Returns:
        The scalar loss (float32).
    """
    if logits.dim() != 2:
        raise ValueError(f'supcon_loss: logits must be (A, N), got shape {tuple(logits.shape)}')
    if pos_weight.shape != logits.shape:
        raise ValueError(f'supcon_loss: pos_weight of shape {tuple(pos_weight.shape)} does not match logits of shape '
                         f'{tuple(logits.shape)}')
    if denom_weight is not None and denom_weight.shape != logits.shape:
        raise ValueError(f'supcon_loss: denom_weight of shape {tuple(denom_weight.shape)} does not match logits of '
                         f'shape {tuple(logits.shape)}')
    logits = logits.float()
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    pos_weight = pos_weight.detach().float()
    if denom_weight is None:
        log_denom = torch.logsumexp(logits, dim=1, keepdim=True)
    else:
        log_denom = torch.logsumexp(logits + denom_weight.detach().float().log(), dim=1, keepdim=True)
    log_prob = logits - log_denom
    # zero weights contribute exactly 0 (also where log_prob is infinite, e.g. an excluded column)
    weighted = torch.where(pos_weight > 0, pos_weight * log_prob, torch.zeros_like(log_prob))
    if pos_norm is not None and pos_norm.shape != logits.shape[:1]:
        raise ValueError(f'supcon_loss: pos_norm of shape {tuple(pos_norm.shape)} does not match the {logits.shape[0]} '
                         'anchors')
    num_pos = pos_weight.sum(dim=1) if pos_norm is None else pos_norm.detach().float()
    num_pos = torch.where(num_pos > 0, num_pos, torch.ones_like(num_pos))
    return -scale * (weighted.sum(dim=1) / num_pos).mean()


@register_into('MODELS', scopes=('mmpretrain',))
class SupConLoss(nn.Module):
    """SupContrast's ``SupConLoss`` on :func:`supcon_loss`.

    The ``V`` views of ``B`` samples are stacked view-major into ``V B`` contrast rows ``z``; anchors are all of them
    (``contrast_mode='all'``) or view 0's ``B`` rows (``'one'``); ``l_ij = z_i . z_j / T``; positives are the other
    rows of the same label (``labels``), of ``mask[i, j] = 1`` (``mask``), or the other views of the same sample
    (neither: SimCLR); the denominator holds every row but the anchor itself; the loss is scaled by
    ``T / base_T``. Defaults ``temperature=0.07, contrast_mode='all', base_temperature=0.07`` are the official
    ``__init__``'s (``losses.py`` line 14). Note that the official ``main_supcon.py`` sets only ``temperature``
    (0.1 in its README runs), so the loss there is scaled by ``0.1 / 0.07``: a config reproducing it keeps
    ``base_temperature=0.07``.

    Args:
        temperature: ``T``. Default 0.07.
        contrast_mode: ``'all'`` or ``'one'``. Default ``'all'``.
        base_temperature: ``base_T``. Default 0.07.
        loss_weight: multiplies the loss. Default 1.0.
    """

    def __init__(self, temperature: float = 0.07, contrast_mode: str = 'all', base_temperature: float = 0.07,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if contrast_mode not in CONTRAST_MODES:
            raise ValueError(f'SupConLoss: contrast_mode must be one of {CONTRAST_MODES}, got {contrast_mode!r}')
        if not temperature > 0 or not base_temperature > 0:
            raise ValueError(f'SupConLoss: temperature and base_temperature must be > 0, got {temperature!r} and '
                             f'{base_temperature!r}')
        self.temperature = float(temperature)
        self.base_temperature = float(base_temperature)
        self.contrast_mode = contrast_mode
        self.loss_weight = float(loss_weight)

    def forward(self, features: torch.Tensor, labels: Optional[torch.Tensor] = None,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The loss of ``features`` ``(B, V, d)`` (more trailing dimensions are flattened into ``d``), L2-normalised
        by the caller, with ``labels`` ``(B,)`` or a positive ``mask`` ``(B, B)`` (at most one of them)."""
        if features.dim() < 3:
            raise ValueError(f'SupConLoss: features must be (B, V, d), got shape {tuple(features.shape)}')
        features = features.flatten(2)
        batch, views = features.shape[:2]
        if labels is not None and mask is not None:
            raise ValueError('SupConLoss: give labels or mask, not both')
        if labels is not None:
            labels = labels.reshape(-1)
            if labels.numel() != batch:
                raise ValueError(f'SupConLoss: {labels.numel()} labels for {batch} samples')
            mask = (labels[:, None] == labels[None, :]).float()
        elif mask is not None:
            if mask.shape != (batch, batch):
                raise ValueError(f'SupConLoss: mask must be ({batch}, {batch}), got shape {tuple(mask.shape)}')
            mask = mask.float()
        else:
            mask = torch.eye(batch, device=features.device)
        contrast = torch.cat(torch.unbind(features, dim=1), dim=0)
        anchors, anchor_count = (contrast, views) if self.contrast_mode == 'all' else (features[:, 0], 1)
        logits = anchors @ contrast.T / self.temperature
        not_self = torch.ones_like(logits)
        not_self[torch.arange(len(anchors)), torch.arange(len(anchors))] = 0.0
        pos_weight = mask.repeat(anchor_count, views) * not_self
        return self.loss_weight * supcon_loss(logits, pos_weight, not_self,
                                              scale=self.temperature / self.base_temperature)
