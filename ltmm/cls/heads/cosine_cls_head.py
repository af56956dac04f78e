"""Cosine (normed-linear) classifier head."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes


def cosine_logits(feats: torch.Tensor, weight: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``scale * <x / |x|, w_j / |w_j|>`` for every class ``j``.

    Args:
        feats: features, shape (N, D).
        weight: class weights, shape (C, D).
        scale: multiplies the cosine similarities.

    Returns:
        logits of shape (N, C), in ``[-scale, scale]``.
    """
    return scale * F.linear(F.normalize(feats, dim=1), F.normalize(weight, dim=1))


def init_unit_rows_(weight: torch.Tensor) -> torch.Tensor:
    """LDAM-DRW's ``NormedLinear`` initialisation: uniform in [-1, 1], then each class vector rescaled to norm 1."""
    with torch.no_grad():
        weight.uniform_(-1.0, 1.0)
        weight.div_(weight.norm(dim=1, keepdim=True).clamp_min(1e-12))
    return weight


@register_into('MODELS', scopes=('mmpretrain',))
class CosineClsHead(ClsHead):
    """Cosine classifier: ``z_j = s * cos(x, w_j)``, no bias.

    The normed linear layer of LDAM-DRW (Cao et al., NeurIPS 2019, kaidic/LDAM-DRW ``models/resnet_cifar.py``
    ``NormedLinear``), reused by RIDE, SADE and MDCS, which multiply its output by ``s = 30`` in the model. LDAM-DRW
    instead applies ``s`` inside its loss (``s * (cos - m)`` on the target class): for that form use ``scale=1`` with
    a loss that scales (``LDAMLoss(s=30)``); a loss that subtracts ``m * s`` from already scaled logits (RIDE's) gives
    the same values with ``scale=30``.

    The class vectors are stored as ``fc.weight`` (C, D) and initialised as ``NormedLinear`` (uniform, then unit
    norm); only their directions matter to the logits.

    Args:
        num_classes: number of classes.
        in_channels: feature dimension ``D``.
        scale: ``s``, the fixed logit scale. Default 30.0 (RIDE / SADE / MDCS); 1.0 returns raw cosines.
        init_cfg: mmengine init config; None keeps the ``NormedLinear`` initialisation.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, scale: float = 30.0, init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be a positive integer')
        if scale <= 0:
            raise ValueError(f'scale must be positive, got {scale}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.scale = float(scale)
        self.fc = nn.Linear(in_channels, num_classes, bias=False)
        init_unit_rows_(self.fc.weight)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return cosine_logits(self.pre_logits(feats), self.fc.weight, self.scale)
