"""Federated loss: sigmoid cross-entropy restricted to a sampled subset of classes per batch.

Zhou et al., "Probabilistic two-stage detection", arXiv 2103.07461 (CenterNet2), appendix; official code
xingyizhou/CenterNet2 ``centernet/modeling/roi_heads/fed_loss.py``, upstreamed into detectron2
``detectron2/modeling/roi_heads/fast_rcnn.py`` (``get_fed_loss_classes``, ``sigmoid_cross_entropy_loss``).
"""
from typing import Optional

import torch
from mmengine import dist
from torch import Tensor

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss, onehot_bce_sum


def federated_classes(labels: Tensor, class_weight: Tensor, num_sampled_classes: int,
                      generator: torch.Generator) -> Tensor:
    """The classes one batch is trained on: the unique labels of its RoIs (the background index C counts when
    background RoIs are present) plus classes drawn without replacement with probability proportional to
    ``class_weight``, up to ``num_sampled_classes`` in all. Classes of zero weight are never drawn, so fewer are
    returned when not enough remain. Runs on the CPU of ``generator``."""
    present = torch.unique(labels).cpu()
    num_classes = class_weight.numel()
    if present.numel() and not 0 <= int(present[0]) <= int(present[-1]) <= num_classes:
        raise ValueError(f'FederatedLoss: RoI labels must lie in 0..{num_classes} (classes, then the background '
                         f'{num_classes}), got {[int(c) for c in present if not 0 <= c <= num_classes]}; does the '
                         f'bbox head num_classes match the dataset?')
    num_draw = num_sampled_classes - present.numel()
    if num_draw <= 0:
        return present
    prob = torch.cat([class_weight.detach().float().cpu(), torch.zeros(1)])  # the background is never drawn
    prob[present] = 0
    num_draw = min(num_draw, int((prob > 0).sum()))
    if num_draw == 0:
        return present
    drawn = torch.multinomial(prob, num_draw, replacement=False, generator=generator)
    return torch.cat([present, drawn])


@register_into('MODELS', scopes=('mmdet',))
class FederatedLoss(BBoxHeadContractLoss):
    """Federated loss: sigmoid cross-entropy over the C class logits, counted only in the columns of one class
    subset per batch (the classes present plus classes sampled by frequency).

    ``L = sum_{i, c<C} m_c BCEWithLogits(z_ic, y_ic) / N`` with ``m_c = 1`` iff c is a class of the batch's RoIs or
    one of the classes drawn without replacement with ``p_c ~ image_count_c ^ freq_weight_power`` until
    ``num_sampled_classes`` classes are selected (the background index counts towards them when background RoIs are
    present, so at most ``num_sampled_classes - 1`` foreground classes then, as in detectron2). The classifier keeps
    C+1 logits like detectron2's; the background logit is not trained and test scores are ``sigmoid(z_c)``.
    ``label_weights`` and ``avg_factor`` are ignored; the sum is divided by the number of RoIs N (official).

    Sampling is reproducible: each call draws from a generator seeded with ``(seed, rank, call index)``; the call
    index is a buffer, so a resumed run continues the same sequence. Ranks draw different subsets, as in the
    official (independent per-GPU) code.

    Args:
        num_classes: number of foreground classes C.
        class_stats: training class statistics (``ltmm.core.class_stats``); ``image_count`` gives the sampling weights.
            A class with no training image is never drawn as a negative.
        num_sampled_classes: classes per batch, background included. Default 50 (``FED_LOSS_NUM_CLASSES``).
        freq_weight_power: exponent of the image count. Default 0.5 (``FED_LOSS_FREQ_WEIGHT_POWER``).
        seed: seed of the class sampling. Default 0.
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, num_sampled_classes: int = 50,
                 freq_weight_power: float = 0.5, seed: int = 0, loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=False, loss_weight=loss_weight)
        if num_sampled_classes < 1:
            raise ValueError(f'num_sampled_classes must be >= 1, got {num_sampled_classes}')
        stats = load_class_stats(class_stats, num_classes=num_classes, allow_zero=True)
        self.num_sampled_classes = num_sampled_classes
        self.freq_weight_power = freq_weight_power
        self.seed = seed
        self.register_buffer('class_weight', torch.tensor(stats.image_count, dtype=torch.float64)
                             .pow(freq_weight_power).float(), persistent=False)
        self.register_buffer('num_calls', torch.zeros((), dtype=torch.int64))
        self._generator = torch.Generator()

    def sample_classes(self, labels: Tensor) -> Tensor:
        """This batch's class subset (indices into C+1, background possibly included)."""
        rank = dist.get_rank()
        self._generator.manual_seed((self.seed * 1_000_003 + rank) * 1_000_003 + int(self.num_calls))
        self.num_calls += 1
        return federated_classes(labels, self.class_weight, self.num_sampled_classes, self._generator)

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        mask = torch.zeros(self.num_classes + 1, device=cls_score.device)
        mask[self.sample_classes(labels).to(cls_score.device)] = 1
        mask = mask[:self.num_classes]
        loss = onehot_bce_sum(cls_score[:, :self.num_classes], labels, mask, mask) / max(cls_score.size(0), 1)
        return self.loss_weight * loss
