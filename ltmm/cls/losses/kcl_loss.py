"""KCL, k-positive contrastive learning (Kang et al., "Exploring Balanced Feature Spaces for Representation
Learning", ICLR 2021): MoCo's InfoNCE with, besides the anchor's own key, ``k`` keys of its class from the labelled
queue as positives, so every class contributes the same number of positives per anchor.

Official code (no licence file, README "CC-BY-NC 4.0"; re-implemented from its maths, nothing copied):
bingykang/BalFeat@ba60412d ``moco/kcl_builder.py`` (``KCL.forward``, lines 126-195) and ``main_kcl.py``. The
re-implementation in LTH14/targeted-supcon@c4f15ebf ``moco/builder.py`` (``KCL.forward``, lines 305-433, MIT) samples
the positives at random; SBCL's phase 1 samples them with replacement. This module covers the three
(``sampling``, ``replacement``); each config states which one it reproduces.

Loss, per anchor ``i`` with unit query ``q_i``, its key ``k_i``, the queue keys ``u_j`` and the selected same-class
slots ``S_i``::

    l_i = [q_i . k_i, q_i . u_1, ..., q_i . u_K] / T
    L   = -(1/B) sum_i (log p_i0 + sum_{j in S_i} log p_ij) / (1 + |S_i|),   p_i = softmax(l_i)

The denominator holds all ``1 + K`` columns, the unselected positives included (BalFeat's ``losstype='v1'``, the
default; ``'v2'`` is not implemented). Queue slots labelled -1 (not yet written) are negatives only, so with an
all-(-1) queue KCL is MoCo's InfoNCE.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn

from ...core.registry import register_into
from .supcon_loss import supcon_loss

SAMPLINGS = ('first', 'random')


def select_positives(same_class: torch.Tensor, num_positives: Optional[int], sampling: str = 'first',
                     replacement: bool = False) -> torch.Tensor:
    """The ``(B, K)`` 0/1 float mask of the queue slots kept as positives.

    Args:
        same_class: ``(B, K)`` bool, queue slot ``j`` holds the class of anchor ``i``.
        num_positives: ``k``; None keeps every same-class slot (BalFeat's ``posk=None``, the TSC repo's ``--K 0``).
        sampling: ``'first'``: the first ``k`` same-class slots in queue order (BalFeat's ``topk`` of the 0/1 mask,
            whose ties come back in index order; ltmm makes that order explicit); ``'random'``: ``k`` of them
            uniformly at random without replacement (the TSC repo's ``k`` rounds of one uniform draw among the
            remaining ones: the same distribution). An anchor with fewer than ``k`` keeps all of them.
        replacement: with ``'random'``, draw ``k`` slots with replacement and keep the distinct ones (SBCL's phase
            1: at most ``k`` positives). Default False.
    """
    if sampling not in SAMPLINGS:
        raise ValueError(f'select_positives: sampling must be one of {SAMPLINGS}, got {sampling!r}')
    if replacement and sampling != 'random':
        raise ValueError("select_positives: replacement=True needs sampling='random'")
    same_class = same_class.bool()
    if num_positives is None:
        return same_class.float()
    if num_positives < 0:
        raise ValueError(f'select_positives: num_positives must be >= 0 or None, got {num_positives}')
    if num_positives == 0 or same_class.shape[1] == 0:
        return torch.zeros_like(same_class, dtype=torch.float32)
    if sampling == 'first':
        return (same_class & (same_class.long().cumsum(dim=1) <= num_positives)).float()
    selected = torch.zeros_like(same_class, dtype=torch.float32)
    if replacement:
        rows = same_class.any(dim=1)
        if rows.any():
            draws = torch.multinomial(same_class[rows].float(), num_positives, replacement=True)
            selected[rows] = selected[rows].scatter(1, draws, 1.0)
        return selected
    scores = torch.rand(same_class.shape, device=same_class.device).masked_fill(~same_class, -1.0)
    top = scores.topk(min(num_positives, same_class.shape[1]), dim=1).indices
    return selected.scatter(1, top, 1.0) * same_class


def moco_logits(query: torch.Tensor, key: torch.Tensor, *negatives: torch.Tensor) -> torch.Tensor:
    """``[q . k, q . n_1, ...]`` for each anchor: ``(B, 1 + sum of the negatives' rows)``, unscaled."""
    return torch.cat([(query * key).sum(dim=1, keepdim=True)] + [query @ n.T for n in negatives], dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class KCLLoss(nn.Module):
    """KCL's loss (module docstring), the ``contrast_loss`` of a
    :class:`~ltmm.cls.classifiers.QueueContrastClassifier`.

    Args:
        temperature: ``T``. Default 0.07 (BalFeat ``main_kcl.py`` ``--moco-t``).
        num_positives: ``k``. Default 6 (BalFeat README ``--posk 6``; TSC repo ``--K 6``); None: every same-class
            queue slot is a positive (supervised MoCo).
        sampling: ``'first'`` (BalFeat, default) or ``'random'`` (TSC repo), see :func:`select_positives`.
        replacement: random draws with replacement (SBCL's phase 1). Default False.
        loss_weight: multiplies the loss. Default 1.0.
    """

    def __init__(self, temperature: float = 0.07, num_positives: Optional[int] = 6, sampling: str = 'first',
                 replacement: bool = False, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'KCLLoss: temperature must be > 0, got {temperature!r}')
        select_positives(torch.zeros(1, 1, dtype=torch.bool), num_positives, sampling, replacement)  # checks
        self.temperature = float(temperature)
        self.num_positives = num_positives
        self.sampling = sampling
        self.replacement = bool(replacement)
        self.loss_weight = float(loss_weight)

    def positives(self, queue_labels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The ``(B, K)`` mask of the queue positives of each anchor (the -1 slots never match)."""
        same_class = (labels.reshape(-1, 1) == queue_labels.reshape(1, -1)) & (queue_labels.reshape(1, -1) >= 0)
        return select_positives(same_class, self.num_positives, self.sampling, self.replacement)

    def forward(self, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                labels: torch.Tensor, **unused) -> Dict[str, torch.Tensor]:
        """``{'loss_kcl': L}`` for unit queries and keys ``(B, d)``, the queue ``(K, d)`` with its labels ``(K,)``
        and the labels ``(B,)``; other keyword arguments of the classifier (``cls_score``, ``pooled``) are
        ignored."""
        _check_shapes('KCLLoss', query, key, queue_feats, queue_labels, labels)
        logits = moco_logits(query.float(), key.float(), queue_feats.float()) / self.temperature
        pos_weight = torch.cat([torch.ones_like(logits[:, :1]), self.positives(queue_labels, labels)], dim=1)
        return dict(loss_kcl=self.loss_weight * supcon_loss(logits, pos_weight))


def _check_shapes(name: str, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor,
                  queue_labels: torch.Tensor, labels: torch.Tensor) -> None:
    if query.dim() != 2 or key.shape != query.shape:
        raise ValueError(f'{name}: query and key must be one (B, d) shape, got {tuple(query.shape)} and '
                         f'{tuple(key.shape)}')
    if queue_feats.dim() != 2 or queue_feats.shape[1] != query.shape[1]:
        raise ValueError(f'{name}: queue_feats must be (K, {query.shape[1]}), got shape {tuple(queue_feats.shape)}')
    if queue_labels.numel() != queue_feats.shape[0]:
        raise ValueError(f'{name}: {queue_labels.numel()} queue labels for {queue_feats.shape[0]} queue keys')
    if labels.numel() != query.shape[0]:
        raise ValueError(f'{name}: {labels.numel()} labels for {query.shape[0]} queries')
