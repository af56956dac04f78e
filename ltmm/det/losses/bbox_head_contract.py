"""The mmdet bbox-head contract shared by ltmm's sigmoid classification losses (:class:`BBoxHeadContractLoss`), and
the one-hot sigmoid cross-entropy sum they all build on (:func:`onehot_bce_sum`).

mmdet 3.x's ``BBoxHead`` asks its ``loss_cls`` for the classifier width (``custom_cls_channels`` ->
``get_cls_channels``), for the test-time scores (``custom_cls_channels`` -> ``get_activation``, which must return
(N, C+1) with background last because ``multiclass_nms`` drops the last column) and for the training accuracy
(``custom_activation`` -> ``get_accuracy``). Without these flags a sigmoid-trained classifier is silently scored with
softmax at test time (mmdet's own ``EQLV2Loss``, open-mmlab/mmdetection#11038).

Two layouts exist:
- ``objectness=True`` (EQLv2, ``SigmoidCELoss``, ROG's sigmoid baseline): C+1 logits; the last one is a trained,
  class-agnostic background/objectness logit, and a class score is ``p_c * (1 - p_bg)`` when ``test_with_obj``.
- ``objectness=False`` (EQL v1, Federated loss): class logits only are trained; the background column returned by
  ``get_activation`` is a zero placeholder (what NMS drops).

Labels follow mmdet: foreground ``0..C-1``, background ``C``.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def onehot_bce_sum(cls_score: Tensor, labels: Tensor, neg_weight: Optional[Tensor] = None,
                   pos_weight: Optional[Tensor] = None) -> Tensor:
    """``sum_ij w_ij BCEWithLogits(z_ij, y_ij)`` for one-hot targets ``y_ij = [labels_i == j]`` over the W columns
    of ``cls_score`` (a label >= W, e.g. the background of a classifier without background column, gives an
    all-negative row), with per-column weights ``w_ij = pos_weight_j`` where ``y_ij = 1`` and ``neg_weight_j``
    elsewhere (default 1).

    Exact, without building the N x W target or weight matrix: ``BCE(z, 0) = softplus(z)`` and
    ``BCE(z, 1) = softplus(-z)``, so the sum is ``sum_j neg_w_j sum_i softplus(z_ij)`` corrected at the N positive
    entries. Computed in float32.
    """
    logits = cls_score.float()
    width = logits.size(1)
    column_sums = F.softplus(logits).sum(dim=0)
    total = column_sums.sum() if neg_weight is None else (column_sums * neg_weight).sum()
    has_pos = labels < width
    cols = labels.clamp(max=width - 1)
    z_pos = logits.gather(1, cols.unsqueeze(1)).squeeze(1)
    pos_w = 1.0 if pos_weight is None else pos_weight[cols]
    neg_w = 1.0 if neg_weight is None else neg_weight[cols]
    return total + ((pos_w * F.softplus(-z_pos) - neg_w * F.softplus(z_pos)) * has_pos).sum()


class BBoxHeadContractLoss(nn.Module):
    """Base class: the bbox-head contract of a sigmoid classifier over ``num_classes`` foreground classes.

    Args:
        num_classes: number of foreground classes C.
        objectness: whether logit C is a trained background/objectness logit.
        test_with_obj: with ``objectness``, score class c as ``p_c * (1 - p_bg)`` at test time.
        loss_weight: multiplier of the loss.
    """

    custom_cls_channels = True
    custom_activation = True
    custom_accuracy = True

    def __init__(self, num_classes: int, objectness: bool, test_with_obj: bool = True, loss_weight: float = 1.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        self.num_classes = num_classes
        self.objectness = objectness
        self.test_with_obj = test_with_obj
        self.loss_weight = loss_weight

    def get_cls_channels(self, num_classes: int) -> int:
        """Classifier width: C+1 (the last logit is the objectness logit, or unused)."""
        self._check_num_classes(num_classes)
        return num_classes + 1

    def check_reduction(self, reduction_override: Optional[str]) -> None:
        """These losses are defined as a sum over RoIs divided by the number of RoIs; a per-RoI loss (mmdet's
        OHEM sampler asks for ``reduction_override='none'``) is not."""
        if reduction_override not in (None, 'mean'):
            raise ValueError(f'{type(self).__name__} normalises by the number of RoIs and supports no '
                             f'reduction_override={reduction_override!r} (e.g. OHEM sampling)')

    def _check_num_classes(self, num_classes: int) -> None:
        if num_classes != self.num_classes:
            raise ValueError(f'{type(self).__name__}: the bbox head has num_classes={num_classes} but the loss was '
                             f'built with num_classes={self.num_classes}')

    def get_activation(self, cls_score: Tensor) -> Tensor:
        """Test-time scores (N, C+1), background last."""
        prob = cls_score.float().sigmoid()
        fg = prob[:, :self.num_classes]
        if self.objectness:
            bg = prob[:, self.num_classes:self.num_classes + 1]
            if self.test_with_obj:
                fg = fg * (1 - bg)
        else:
            bg = fg.new_zeros((fg.size(0), 1))
        return torch.cat([fg, bg], dim=1)

    def get_accuracy(self, cls_score: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """``acc_objectness``: background-vs-foreground decision on all RoIs (objectness logit > 0, or no class
        probability above 0.5); ``acc_classes``: top-1 over the C class logits on foreground RoIs (0 when none).
        Both in percent, like mmdet's ``accuracy``."""
        logits = cls_score.detach().float()
        is_bg = labels == self.num_classes
        if self.objectness:
            pred_bg = logits[:, self.num_classes] > 0
        else:
            pred_bg = logits[:, :self.num_classes].max(dim=1).values <= 0
        acc_obj = (pred_bg == is_bg).float().mean() * 100 if labels.numel() else logits.new_zeros(())
        fg = ~is_bg
        if fg.any():
            acc_cls = (logits[fg, :self.num_classes].argmax(dim=1) == labels[fg]).float().mean() * 100
        else:
            acc_cls = logits.new_zeros(())
        return dict(acc_objectness=acc_obj, acc_classes=acc_cls)
