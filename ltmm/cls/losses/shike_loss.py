"""SHIKE's stage-1 loss, dynamic knowledge transfer (DKT) (Jin et al., "Long-Tailed Visual Recognition via
Self-Heterogeneous Integration with Knowledge Excavation", CVPR 2023; official code jinyan-06/SHIKE, no licence file,
read at commit 2b04b62d to check facts; re-implemented from ``cifarTrain.py`` ``mix_outputs``, nothing copied).

With the K expert logits ``z_k`` (cosine classifier x 30, the scale applied in the head) of one sample of class y::

    Zbar = mean_k z_k;  Zmax = max_k z_k (element-wise)
    h    = argmax_{c != y} Zbar_c                                  # the hardest negative
    t_y = 0;  t_h = Zbar_h;  t_c = Zmax_c otherwise                 # teacher logits
    P    = softmax(t)                                              # NOT detached (as the official code)
    Q_k  = softmax(z_k with z_k[y] replaced by -30)                # non-target student
    L    = sum_k [ CE(z_k, y) + 10 * KL(P || Q_k) + sum_{j != k} KL(softmax z_j || softmax z_k) ]

Both KL terms use ``F.kl_div``'s default element-wise 'mean' reduction, i.e. they are divided by ``B * C`` (100x
smaller than 'batchmean' on CIFAR-100); this is what the official code runs and is kept. Neither side of either KL is
detached (both as the official code). The CE is the batch mean.

Stage 2 (SHIKE's re-trained classifiers) uses the balanced softmax (``BalancedSoftmaxLoss``) and is not part of this
loss.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss

HNS_WEIGHT = 10.0  # weight of the hardest-negative-suppression KL (cifarTrain.py, mix_outputs)
TARGET_FILL = -30.0  # the target logit of the non-target student (cifarTrain.py, mix_outputs)


def kl_mean(log_q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``F.kl_div(log_q, p)`` with its current default 'mean' reduction (sum / (B * C)), written out so that the
    announced change of that default to 'batchmean' cannot alter the official normalisation."""
    return F.kl_div(log_q, p, reduction='sum') / p.numel()


def shike_loss(expert_logits: torch.Tensor, label: torch.Tensor, hns_weight: float = HNS_WEIGHT,
               target_fill: float = TARGET_FILL) -> torch.Tensor:
    """SHIKE's DKT loss (module docstring).

    Args:
        expert_logits: (B, K, C) expert logits, K >= 1.
        label: (B,) class indices.
        hns_weight: weight of the hardest-negative KL. Default 10 (official ``mix_outputs``).
        target_fill: the value replacing the target logit of the non-target student. Default -30 (same place).

    Returns:
        The scalar loss (sum over experts).
    """
    if expert_logits.dim() != 3 or label.shape != expert_logits.shape[:1]:
        raise ValueError(f'SHIKE: expected (B, K, C) logits and (B,) labels, got {tuple(expert_logits.shape)} and '
                         f'{tuple(label.shape)}')
    if expert_logits.size(2) < 2:
        raise ValueError(f'SHIKE needs at least 2 classes, got {expert_logits.size(2)}')
    num_experts = expert_logits.size(1)
    target = F.one_hot(label, expert_logits.size(2)).bool()
    mean_logits = expert_logits.mean(dim=1)
    max_logits = expert_logits.max(dim=1).values
    hardest = mean_logits.masked_fill(target, float('-inf')).argmax(dim=1)
    hard = F.one_hot(hardest, expert_logits.size(2)).bool()
    teacher_logits = torch.where(hard, mean_logits, max_logits).masked_fill(target, 0.0)
    teacher = F.softmax(teacher_logits, dim=1)
    loss = expert_logits.new_zeros(())
    for k in range(num_experts):
        z_k = expert_logits[:, k]
        loss = loss + F.cross_entropy(z_k, label)
        student = F.log_softmax(z_k.masked_fill(target, target_fill), dim=1)
        loss = loss + hns_weight * kl_mean(student, teacher)
        log_q = F.log_softmax(z_k, dim=1)
        for j in range(num_experts):
            if j != k:
                loss = loss + kl_mean(log_q, F.softmax(expert_logits[:, j], dim=1))
    return loss


@register_into('MODELS', scopes=('mmpretrain',))
class SHIKELoss(ClassificationLoss):
    """SHIKE's stage-1 DKT loss (module docstring) for the (B, K, C) expert logits of ``MultiExpertClsHead``.

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); DKT does not use them, they fix
            ``num_classes`` as for every ltmm loss.
        num_classes: ``C``, checked against ``class_stats`` when given.
        num_experts: K. Default 3 (official ``ResNet_MoE``, CIFAR-100).
        hns_weight: weight of the hardest-negative KL. Default 10 (``mix_outputs``).
        loss_weight: multiplies the loss. Default 1.0.
    """
    multi_expert = True
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, num_experts: int = 3,
                 hns_weight: float = HNS_WEIGHT, loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction='mean', allow_zero=True)
        if int(num_experts) != num_experts or num_experts < 1:
            raise ValueError(f'SHIKELoss: num_experts must be a positive integer, got {num_experts}')
        if not hns_weight >= 0:
            raise ValueError(f'SHIKELoss: hns_weight must be >= 0, got {hns_weight}')
        self.num_experts = int(num_experts)
        self.hns_weight = float(hns_weight)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (B, K, C) expert logits; label (B,) class indices. Sample weights and reductions other
        than 'mean' are refused (the official normalisation, module docstring)."""
        if weight is not None or reduction_override not in (None, 'mean'):
            raise ValueError(f'SHIKELoss takes no sample weights and only the mean reduction, got weight '
                             f'{"given" if weight is not None else None} and reduction_override={reduction_override!r}')
        if label.dim() != 1:
            raise ValueError(f'SHIKELoss needs hard labels (B,), got labels of shape {tuple(label.shape)}')
        if cls_score.dim() != 3 or cls_score.size(1) != self.num_experts or cls_score.size(2) != self.num_classes:
            raise ValueError(f'SHIKELoss: expert logits of shape {tuple(cls_score.shape)}, expected (B, '
                             f'{self.num_experts}, {self.num_classes})')
        return self.loss_weight * shike_loss(cls_score.float(), label, self.hns_weight)
