"""ResLT loss: the group-masked cross-entropy of the three residual branches plus the cross-entropy of their sum
(Cui et al., "ResLT: Residual Learning for Long-tailed Recognition", TPAMI 2022).

Official code (MIT; re-implemented from its maths, nothing copied): jiequancui/ResLT@9650d932
``CIFAR/cifarTrain_reslt_cifar100.py`` (``crossEntropy``, lines 61-64; the loss, lines 146-155),
``CIFAR/cifarTrain_reslt_cifar10.py`` (lines 148-157), ``ImageNetLT/ImageNetTrain_reslt.py`` (``crossEntropy``,
lines 103-108; the loss, lines 304-313) and the ``sh/`` scripts (``--beta``).
"""
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from ...core.reweighting import Counts
from .base import ClassificationLoss

NUM_BRANCHES = 3  # head+medium+tail, medium+tail, tail


def reslt_group_masks(counts: Counts, num_medium_tail: int, num_tail: int) -> torch.Tensor:
    """The classes each ResLT branch is trained on, shape (3, C), bool: row 0 every class (the main branch), row 1
    the ``num_medium_tail`` least frequent classes (medium+tail), row 2 the ``num_tail`` least frequent (tail).

    Classes are ranked by training count, most frequent first; equal counts keep the class order (a stable sort: of
    two classes with the same count, the one with the lower index ranks as the more frequent). On data whose counts
    do not increase with the class index (the CIFAR-LT profile, class 0 the head) this is the official index slicing
    ``one_hot[:, 35:100]`` / ``[:, 70:100]`` (CIFAR-100) or ``[:, 2:10]`` / ``[:, 4:10]`` (CIFAR-10); on ImageNet-LT
    it is the official ``[:, :825]`` / ``[:, :220]`` of the labels re-indexed by ascending count
    (``ImageNetLT/datasets/imagenet.py``, ``np.argsort``), up to the order of equal counts (see ``ResLTLoss``).

    Args:
        counts: training images per class, shape (C,), non-negative.
        num_medium_tail: size of the medium+tail group, ``0 <= num_tail <= num_medium_tail <= C``.
        num_tail: size of the tail group.

    Raises:
        ValueError: counts not 1-D or negative, or group sizes out of order or range (naming them).
    """
    n = np.asarray(counts.detach().cpu() if isinstance(counts, torch.Tensor) else counts, dtype=np.float64)
    if n.ndim != 1 or n.size == 0:
        raise ValueError(f'counts must be a non-empty 1-D sequence, got shape {n.shape}')
    if (n < 0).any():
        raise ValueError(f'counts must be >= 0; class index {np.flatnonzero(n < 0).tolist()} is negative')
    num_classes = n.size
    for name, value in (('num_medium_tail', num_medium_tail), ('num_tail', num_tail)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f'{name} must be an integer, got {value!r}')
    if not 0 <= num_tail <= num_medium_tail <= num_classes:
        raise ValueError(f'ResLT groups need 0 <= num_tail ({num_tail}) <= num_medium_tail ({num_medium_tail}) <= '
                         f'num_classes ({num_classes})')
    rank = np.empty(num_classes, dtype=np.int64)
    rank[np.argsort(-n, kind='stable')] = np.arange(num_classes)  # 0 = the most frequent class
    masks = np.stack([np.ones(num_classes, dtype=bool), rank >= num_classes - num_medium_tail,
                      rank >= num_classes - num_tail])
    return torch.from_numpy(masks)


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """``-sum_c y_c log(softmax(z)_c + eps)`` over the last dimension; ``eps = 0`` uses the exact log-softmax."""
    log_prob = F.log_softmax(logits, dim=-1) if eps == 0 else torch.log(F.softmax(logits, dim=-1) + eps)
    return -(target * log_prob).sum(dim=-1)


def reslt_loss(branch_logits: torch.Tensor, target: torch.Tensor, group_masks: torch.Tensor, beta: float,
               eps: float = 1e-7, fused_eps: float = 0.0) -> torch.Tensor:
    """The ResLT training loss ``L = beta * L_ice + (1 - beta) * L_fce``.

    With branch logits ``z^b`` (b = 0 main, 1 medium+tail, 2 tail), targets ``y_i`` and the group masks ``G_b``
    (:func:`reslt_group_masks`), ``l_ib = -sum_c y_ic log(softmax(z^b_i)_c + eps)`` and the group weight
    ``m_ib = sum_{c in G_b} y_ic`` (for a hard label: 1 if the sample's class is in the branch's group, else 0)::

        L_ice = sum_i sum_b m_ib l_ib / sum_i sum_b m_ib       (N + #{y_i in G_1} + #{y_i in G_2} for hard labels)
        L_fce = (1 / N) sum_i -sum_c y_ic log(softmax(z^0_i + z^1_i + z^2_i)_c + fused_eps)

    Args:
        branch_logits: (N, 3, C).
        target: (N, C) class probabilities (one-hot for hard labels).
        group_masks: (3, C) bool.
        beta: weight of ``L_ice``.
        eps: added to the branch probabilities inside the log (official 1e-7).
        fused_eps: the same for the fused logits (0: the exact log-softmax).

    Returns:
        the scalar loss (float32 for float32 inputs).
    """
    per_branch = _cross_entropy(branch_logits, target.unsqueeze(1), eps)  # (N, 3)
    weight = target @ group_masks.to(target).t()  # (N, 3)
    loss_ice = (weight * per_branch).sum() / weight.sum()
    loss_fce = _cross_entropy(branch_logits.sum(dim=1), target, fused_eps).mean()
    return beta * loss_ice + (1.0 - beta) * loss_fce


@register_into('MODELS', scopes=('mmpretrain',))
class ResLTLoss(ClassificationLoss):
    """ResLT loss (see :func:`reslt_loss` for the formula) on the (N, 3, C) branch logits of ``ResLTHead``.

    The branches share one classifier; the main branch learns every class, the second only from the samples of the
    medium+tail classes, the third only from the tail classes, and their sum (the prediction) learns every class
    through ``L_fce``. The groups are the ``num_medium_tail`` and ``num_tail`` least frequent classes of
    ``class_stats`` (:func:`reslt_group_masks`), the official fixed-size groups: they are not ltmm's many / medium /
    few thresholds (``ltmm.core.splits``), although on CIFAR-100-LT IF100 the official 65 / 30 are exactly the
    medium+few and few-shot classes of those thresholds. The official values:

    ============================  ===================  ===========  =====================================
    data                          num_medium_tail      num_tail     beta
    ============================  ===================  ===========  =====================================
    CIFAR-100-LT (IF 100/50/10)   65                   30           0.995 / 0.99 / 0.72
    CIFAR-10-LT (IF 100/50/10)    8                    6            0.998 / 0.998 / 0.96
    ImageNet-LT                   825                  220          0.99
    ============================  ===================  ===========  =====================================

    The loss is separate from the head because it alone depends on the class counts: it reads ``class_stats`` once,
    checks it against ``num_classes`` and computes in float32 like every ltmm classification loss, while
    ``ResLTHead`` (the branches and the test-time fusion) needs no counts.

    Deviations from the official code:

    - the groups come from the counts, not from class indices: the official CIFAR code slices fixed indices (class 0
      the head), the ImageNet-LT code re-indexes the labels by ascending count with numpy's unstable ``argsort``;
      ltmm ranks by count with ties in class-index order, which is the official CIFAR grouping exactly and the
      official ImageNet-LT grouping up to which of several equally frequent classes fall on each side of a group
      boundary (the official choice depends on the numpy build);
    - soft targets (mixup / cutmix ``gt_score``) are accepted: each branch weighs a sample by the target mass in its
      group (the official code takes hard labels only);
    - label smoothing (official ``--lsm``, 0 in every script) is not implemented;
    - under DDP each rank divides ``L_ice`` by its own ``N + #{y_i in G_M} + #{y_i in G_T}`` and DDP averages the
      gradients; the official ImageNet-LT run (``nn.DataParallel``) divides by the count of the whole batch. The
      one-GPU CIFAR configs are exact;
    - only the mean reduction: the two terms are normalised by their own counts as the official code does, so no
      sample weights and no ``avg_factor`` (the head's is ignored).

    Args:
        class_stats: training class counts (anything ``ltmm.core.class_stats.load_class_stats`` accepts); classes
            without a training image are allowed (they rank as the rarest).
        num_classes: ``C``, checked against ``class_stats`` when given (``ResLTHead`` fills it in).
        num_medium_tail: size of the medium+tail group (required; see the table).
        num_tail: size of the tail group (required; see the table).
        beta: weight of the branch term ``L_ice``, ``1 - beta`` that of the fused term. Default 0.99
            (``ImageNetLT/sh/X50.sh``, ``--beta 0.99``); CIFAR-100-LT IF100 uses 0.995
            (``CIFAR/sh/CIFAR100/CIFAR100LT_imf0.01_resnet32sx1_beta0.9950.sh``).
        eps: added to the softmax inside the log of the branch terms. Default 1e-7 (``crossEntropy``, every script).
        fused_eps: the same for the fused term. Default 0.0: the CIFAR scripts use ``nn.CrossEntropyLoss`` (the exact
            log-softmax); the ImageNet-LT script uses ``crossEntropy`` with 1e-7 (set ``fused_eps=1e-7``).
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'mean' only (see above).
    """
    logit_shape = ('N', str(NUM_BRANCHES), 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, *, num_medium_tail: int,
                 num_tail: int, beta: float = 0.99, eps: float = 1e-7, fused_eps: float = 0.0,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, allow_zero=True)
        if reduction != 'mean':
            raise ValueError(f"ResLTLoss normalises its terms as the official code: reduction must be 'mean', got "
                             f'{reduction!r}')
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f'ResLTLoss: beta must lie in [0, 1], got {beta}')
        if not (eps >= 0 and fused_eps >= 0):
            raise ValueError(f'ResLTLoss: eps ({eps}) and fused_eps ({fused_eps}) must be >= 0')
        self.num_medium_tail = num_medium_tail
        self.num_tail = num_tail
        self.beta = float(beta)
        self.eps = float(eps)
        self.fused_eps = float(fused_eps)
        self.register_buffer('group_masks', reslt_group_masks(self.class_counts, num_medium_tail, num_tail),
                             persistent=False)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """``cls_score``: (N, 3, C) branch logits; ``label``: (N,) class indices or (N, C) soft labels;
        ``avg_factor`` is ignored; ``weight`` and a ``reduction_override`` other than 'mean' are refused."""
        if weight is not None:
            raise ValueError('ResLTLoss takes no sample weights (the official loss has none)')
        if self.reduction_mode(reduction_override) != 'mean':
            raise ValueError(f"ResLTLoss: reduction_override must be 'mean' or None, got {reduction_override!r}")
        logits, target = self.prepare(cls_score, label)
        if logits.size(1) != NUM_BRANCHES:
            raise ValueError(f'ResLTLoss: cls_score must hold {NUM_BRANCHES} branches (N, 3, C), got shape '
                             f'{tuple(cls_score.shape)}')
        return self.loss_weight * reslt_loss(logits, target, self.group_masks, self.beta, self.eps, self.fused_eps)
