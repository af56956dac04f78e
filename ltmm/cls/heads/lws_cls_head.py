"""Learnable weight scaling (LWS) classifier head (decoupling, stage 2)."""
import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes


@register_into('MODELS', scopes=('mmpretrain',))
class LWSClsHead(LinearClsHead):
    """Linear head with one learnable scale per class: ``z_j = s_j * (w_j . x + b_j)`` (Kang et al., ICLR 2020;
    facebookresearch/classifier-balancing ``models/TauNormClassifier.py`` and ``config/*/cls_lws.yaml``).

    In LWS the classifier ``fc`` (weight and bias) comes from the stage-1 checkpoint (``load_from``; the stage-1
    head must be a ``LinearClsHead`` with the same ``fc`` keys) and is frozen; only the scales ``s`` (initialised to
    1) are learned, on a frozen backbone with class-aware sampling (see ``configs/decoupling``). MiSLAS
    (Zhong et al., CVPR 2021) also trains ``fc``, at a lower learning rate: set ``train_fc=True`` and give
    ``head.fc`` an ``lr_mult`` in ``optim_wrapper.paramwise_cfg.custom_keys`` (``configs/mislas``); the maths is the
    official ``LearnableWeightScaling`` (dvlab-research/MiSLAS ``methods.py``, a ``(1, C)`` scale, here ``(C,)``).

    Args:
        num_classes: number of classes.
        in_channels: feature dimension.
        train_fc: whether ``fc`` is trained. Default False (LWS: ``fc`` frozen, ``requires_grad=False``).
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, train_fc: bool = False, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels,
                         **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        self.scales = nn.Parameter(torch.ones(num_classes))
        self.fc.requires_grad_(train_fc)

    def forward(self, feats) -> torch.Tensor:
        return super().forward(feats) * self.scales
