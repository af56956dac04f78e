"""Equalization Loss v2 (EQLv2): gradient-guided re-weighting of a sigmoid classifier.

Tan et al., "Equalization Loss v2: A New Gradient Balance Approach for Long-tailed Object Detection", CVPR 2021.
Official code: tztztztztz/eqlv2 ``mmdet/models/losses/eqlv2.py`` (class ``EQLv2``).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss, onehot_bce_sum
from .gradient_statistics import add_all_reduced_


def eqlv2_weights(pos_neg: Tensor, gamma: float, mu: float, alpha: float) -> Tuple[Tensor, Tensor]:
    """Per-column (positive, negative) weights over C+1 columns from the accumulated gradient ratio ``g`` (C,):
    ``neg_w = sigmoid(gamma * (g - mu))``, ``pos_w = 1 + alpha * (1 - neg_w)``; the objectness column keeps 1."""
    neg_w = torch.cat([torch.sigmoid(gamma * (pos_neg.float() - mu)), pos_neg.new_ones(1, dtype=torch.float32)])
    pos_w = 1 + alpha * (1 - neg_w)
    return pos_w, neg_w


def eqlv2_gradient_sums(cls_score: Tensor, labels: Tensor, pos_w: Tensor, neg_w: Tensor) -> Tuple[Tensor, Tensor]:
    """Positive and negative gradient magnitudes per class, summed over RoIs: ``|sigmoid(z) - y| * w`` split by the
    target, objectness column dropped. Analytic (the gradient of BCE w.r.t. the logit), on detached logits:
    ``pos_j = pos_w_j sum_{i: y_i = j} sigmoid(-z_ij)``, ``neg_j = neg_w_j sum_{i: y_i != j} sigmoid(z_ij)``.
    The negative sums add the negative entries only, as the official code: summing every entry and subtracting the
    positives' ``sigmoid(z)`` cancels in float32 once positives are confident (their ~1 swamps the small negatives).
    """
    logits = cls_score.detach().float()
    num_classes = logits.size(1) - 1
    is_fg = labels < num_classes
    cols = labels.clamp(max=num_classes - 1).unsqueeze(1)
    z_pos = logits.gather(1, cols).squeeze(1)
    pos_sum = logits.new_zeros(num_classes).index_add_(0, cols.squeeze(1), torch.sigmoid(-z_pos) * is_fg)
    neg_prob = torch.sigmoid(logits[:, :num_classes])
    neg_prob.scatter_(1, cols, neg_prob.gather(1, cols) * ~is_fg.unsqueeze(1))  # a foreground RoI's own class: 0
    return pos_w[:num_classes] * pos_sum, neg_w[:num_classes] * neg_prob.sum(dim=0)


@register_into('MODELS', scopes=('mmdet',))
class EqualizationLossV2(BBoxHeadContractLoss):
    """EQLv2: sigmoid cross-entropy over C+1 logits (the last is a class-agnostic objectness logit) whose positive
    and negative terms of class j are re-weighted from the ratio ``g_j`` of the positive to negative gradient
    magnitude class j has received so far.

    ``q_j = sigmoid(gamma (g_j - mu))``, ``neg_w_j = q_j``, ``pos_w_j = 1 + alpha (1 - q_j)`` (objectness column: 1);
    ``L = sum_ij [pos_w_j y_ij + neg_w_j (1 - y_ij)] BCEWithLogits(z_ij, y_ij) / N``. After the loss, the weighted
    gradient magnitudes ``|sigmoid(z) - y| w`` of this batch are summed over RoIs, **all-reduced over ranks** and
    added to the buffers ``pos_grad`` / ``neg_grad`` (cumulative over the run, no decay), and
    ``pos_neg = pos_grad / (neg_grad + 1e-10)`` (in training mode). ``pos_neg`` starts at 100, where both weights
    are 1, so the first iteration is plain sigmoid cross-entropy as in the official code. The buffers are in the
    state dict (``...loss_cls.pos_grad``), so a resumed run continues with its statistics; all ranks hold the same
    values.
    ``label_weights`` and ``avg_factor`` are ignored, the sum is divided by the number of RoIs N (official).
    Test scores: ``p_c (1 - p_obj)`` when ``test_with_obj``. The official classifier bias is initialised to prior
    0.001 (``dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls'))``).

    Args:
        num_classes: number of foreground classes C (1203 LVIS v1, 1230 LVIS v0.5).
        gamma: steepness of the mapping. Default 12.0.
        mu: centre of the mapping. Default 0.8.
        alpha: extra positive weight for classes with few positive gradients. Default 4.0.
        test_with_obj: multiply class scores by ``1 - p_obj`` at test time. Default True.
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, num_classes: int, gamma: float = 12.0, mu: float = 0.8, alpha: float = 4.0,
                 test_with_obj: bool = True, loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=True, test_with_obj=test_with_obj, loss_weight=loss_weight)
        self.gamma = gamma
        self.mu = mu
        self.alpha = alpha
        self.register_buffer('pos_grad', torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer('neg_grad', torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer('pos_neg', torch.full((num_classes,), 100.0, dtype=torch.float64))

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        pos_w, neg_w = eqlv2_weights(self.pos_neg.to(cls_score.device), self.gamma, self.mu, self.alpha)
        loss = onehot_bce_sum(cls_score, labels, neg_w, pos_w) / max(cls_score.size(0), 1)
        if self.training:
            self.update_statistics(*eqlv2_gradient_sums(cls_score, labels, pos_w, neg_w))
        return self.loss_weight * loss

    @torch.no_grad()
    def update_statistics(self, pos: Tensor, neg: Tensor) -> None:
        """Add this iteration's gradient sums of every rank (SUM all-reduce; a no-op in a single process)."""
        add_all_reduced_(self.pos_grad, self.neg_grad, pos, neg)
        self.pos_neg.copy_(self.pos_grad / (self.neg_grad + 1e-10))
