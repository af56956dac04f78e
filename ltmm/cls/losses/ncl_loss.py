"""NCL: Nested Collaborative Learning (Li et al., "Nested Collaborative Learning for Long-Tailed Visual Recognition",
CVPR 2022; official code Bazinga699/NCL, BSD-2, read at commit f64fddb3, ``lib/loss/loss.py`` ``NBOD`` lines 6-24 and
``NIL_NBOD`` lines 64-113, the loss type of every official NCL config).

``K`` experts (full independent networks, :class:`ltmm.cls.classifiers.NCLClassifier`) give raw logits ``z_k``. With
``b = log n`` (log of the **raw** training counts, not of the prior) the balanced logits are ``zb_k = z_k + b``.

- Hard category mining (HCM): expert 1's raw logits ``z_1`` with the target entry set to 999999, the top ``hcm_n``
  class indices kept (the target and its ``hcm_n - 1`` hardest negatives), one mask ``M`` shared by all experts. The
  partial logits are ``zh_k = zb_k * M``: the unselected classes get logit 0 (not -inf), so they keep softmax mass;
  the raw-count shift then does not cancel.
- Nested individual learning (NIL): ``sum_k [ce_ratio CE(zb_k, y) + hcm_ratio CE(zh_k, y)]`` (summed over experts).
- Nested balanced online distillation (NBOD), for each family ``q = softmax(zb)`` and ``q = softmax(zh)``::

      f / (K - 1) * sum_{i != j} KL(q_j || q_i),    KL(p || q) = sum_c p_c (log p_c - log(q_c + 1e-9))

  as ``F.kl_div(log(q_i + 1e-9), q_j, reduction='batchmean')`` with ``f = 0.6`` for both families; **no detach**:
  both sides receive gradients, as the official code.

``L = NIL + NBOD(full) + NBOD(partial)``, averaged over the batch (every term is a batch mean, so the loss is a mean
of per-sample terms and DDP with per-rank batches is exact). The prediction is the mean of the raw expert logits
(``NCLClassifier``), as the official ``multi_network_default`` test.

Deviations from the official code: none in the loss. ``K = 1`` gives no NBOD term (the official ``return 0``).
The self-supervised MoCo branch (``CON_RATIO``) is not part of this loss (and not ported yet; the official CIFAR
``NCL.yaml``, ImageNet-LT and iNaturalist configs do not use it).
"""
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss

KL_EPS = 1e-9  # NBOD: torch.log(softmax + 1e-9)
HCM_TARGET_FILL = 999999.0  # NIL_NBOD: inputs[0].scatter(1, target, 999999)


def hcm_mask(logits: torch.Tensor, label: torch.Tensor, hcm_n: int) -> torch.Tensor:
    """Hard-category mask (N, C) in {0, 1}: the target and the ``hcm_n - 1`` classes with the largest logits.

    Args:
        logits: (N, C) raw logits of the first expert (the official ``inputs[0]``, before the count shift).
        label: (N,) class indices.
        hcm_n: classes kept per sample, the target included.
    """
    scores = logits.detach().scatter(1, label[:, None], HCM_TARGET_FILL)
    top = scores.topk(hcm_n, dim=1).indices
    return torch.zeros_like(scores).scatter(1, top, 1.0)


def nbod_per_sample(logits: torch.Tensor, factor: float) -> torch.Tensor:
    """NBOD's per-sample mutual KL, shape (N,): ``f / (K - 1) * sum_{i != j} KL(p_j || p_i)``; 0 for ``K = 1``.

    Args:
        logits: (N, K, C) logits of the ``K`` experts.
        factor: ``f`` (the official ``DIVERSITY_FACTOR`` / ``DIVERSITY_FACTOR_HCM``).
    """
    num_experts = logits.size(1)
    if num_experts == 1:
        return logits.new_zeros(logits.size(0))
    p = F.softmax(logits, dim=2)
    log_p = torch.log(p + KL_EPS)
    entropy_term = (p * torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))).sum(dim=2)  # sum_c p_j log p_j, (N, K)
    cross = torch.einsum('njc,nic->nji', p, log_p)  # sum_c p_j log(p_i + eps), (N, K_j, K_i)
    kl = entropy_term[:, :, None] - cross  # KL(p_j || p_i) at [n, j, i]; the diagonal is zero up to eps
    off_diagonal = 1.0 - torch.eye(num_experts, dtype=kl.dtype, device=kl.device)
    return factor * (kl * off_diagonal).sum(dim=(1, 2)) / (num_experts - 1)


def ncl_per_sample_loss(logits: torch.Tensor, label: torch.Tensor, log_counts: torch.Tensor, hcm_n: int,
                        ce_ratio: float = 1.0, hcm_ratio: float = 1.0, factor: float = 0.6,
                        factor_hcm: float = 0.6) -> torch.Tensor:
    """NCL's per-sample loss (NIL + NBOD on the full and the hard-category logits), shape (N,); its batch mean is the
    official ``NIL_NBOD`` loss.

    Args:
        logits: (N, K, C) raw expert logits.
        label: (N,) class indices.
        log_counts: (C,) ``log n_c`` of the raw training counts.
        hcm_n: classes kept by hard category mining (target included).
        ce_ratio, hcm_ratio: weights of the full and the partial cross-entropy.
        factor, factor_hcm: NBOD factors of the full and the partial distributions.
    """
    balanced = logits + log_counts
    mask = hcm_mask(logits[:, 0], label, hcm_n)
    partial = balanced * mask[:, None]
    num_experts = logits.size(1)
    flat_label = label.repeat_interleave(num_experts)
    ce = F.cross_entropy(balanced.flatten(0, 1), flat_label, reduction='none').view(-1, num_experts).sum(dim=1)
    ce_hcm = F.cross_entropy(partial.flatten(0, 1), flat_label, reduction='none').view(-1, num_experts).sum(dim=1)
    return (ce_ratio * ce + hcm_ratio * ce_hcm + nbod_per_sample(balanced, factor)
            + nbod_per_sample(partial, factor_hcm))


@register_into('MODELS', scopes=('mmpretrain',))
class NCLLoss(ClassificationLoss):
    """NCL's ``NIL_NBOD`` loss on (N, K, C) expert logits (see the module docstring). Hard labels only.

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); every count must be positive (the
            official ``log(n)`` of a zero count is -inf).
        num_classes: ``C``, checked against ``class_stats`` when given.
        hcm_n: classes kept by hard category mining, the target included; must lie in 1..C. Default 30
            (``HCM_N`` of ``config/CIFAR/CIFAR100/cifar100_im100_NCL.yaml``); ImageNet-LT 300, iNaturalist 2018 2442,
            Places-LT 122 (about 30% of the classes).
        ce_ratio: weight of the balanced CE on the full logits. Default 1.0 (``LOSS.CE_RATIO``, every config).
        hcm_ratio: weight of the balanced CE on the hard-category logits. Default 1.0 (``LOSS.HCM_RATIO``).
        factor: NBOD factor on the full distributions. Default 0.6 (``MULTI_CLASIIFIER_LOSS.DIVERSITY_FACTOR``).
        factor_hcm: NBOD factor on the hard-category distributions. Default 0.6 (``DIVERSITY_FACTOR_HCM``).
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean' (the official batch means).

    The defaults are the values of the official NCL yaml configs, not of ``lib/config/default.py`` (HCM_N 5 and
    zero ratios / factors there, which every NCL config overrides).
    """
    multi_expert = True
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, hcm_n: int = 30,
                 ce_ratio: float = 1.0, hcm_ratio: float = 1.0, factor: float = 0.6, factor_hcm: float = 0.6,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        if not isinstance(hcm_n, int) or not 1 <= hcm_n <= self.num_classes:
            raise ValueError(f'NCLLoss: hcm_n must be an integer in 1..num_classes={self.num_classes}, got {hcm_n!r}')
        for name, value in (('ce_ratio', ce_ratio), ('hcm_ratio', hcm_ratio), ('factor', factor),
                            ('factor_hcm', factor_hcm)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f'NCLLoss: {name} must be finite and >= 0, got {value!r}')
        self.hcm_n = hcm_n
        self.ce_ratio, self.hcm_ratio = float(ce_ratio), float(hcm_ratio)
        self.factor, self.factor_hcm = float(factor), float(factor_hcm)
        counts = torch.as_tensor(np.asarray(self.stats.image_count, dtype=np.float64)).float()
        self.register_buffer('log_counts', counts.log(), persistent=False)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if label.dim() != 1:
            raise ValueError(f'NCLLoss takes hard labels (N,), got shape {tuple(label.shape)}')
        return ncl_per_sample_loss(logits, label.long(), self.log_counts, self.hcm_n, self.ce_ratio, self.hcm_ratio,
                                   self.factor, self.factor_hcm)
