"""ResNet-10, the ImageNet-LT backbone of OLTR (Liu et al., "Large-Scale Long-Tailed Recognition in an Open World",
CVPR 2019) and of LFME (Xiang et al., "Learning From Multiple Experts", ECCV 2020): xiangly55/LFME
``models/ResNet10Feature.py`` builds OLTR's ``ResNet(BasicBlock, [1, 1, 1, 1])``: the torchvision ImageNet ResNet
(7x7 stem, max-pool, 64 / 128 / 256 / 512 channels, 1x1-conv + BN projection shortcuts) with one basic block per
stage, 4,905,792 parameters without a classifier, a 512-d feature after global pooling.

mmpretrain's ``ResNet`` builds this network for its own depths only (18 ... 152); :class:`ResNet10` adds depth 10 and
otherwise takes every ``ResNet`` argument. OLTR's initialisation is mmpretrain's default (Kaiming-normal convolutions,
BatchNorm weight 1, bias 0) without zero-initialised residual BatchNorms: ``zero_init_residual`` defaults to False here
(mmpretrain's ``ResNet`` defaults to True).
"""
from mmpretrain.models.backbones.resnet import BasicBlock, ResNet

from ...core.registry import register_into


@register_into('MODELS', scopes=('mmpretrain',))
class ResNet10(ResNet):
    """mmpretrain's ``ResNet`` at depth 10: ``BasicBlock`` x (1, 1, 1, 1) (module docstring).

    Args:
        depth: 10, the only depth (default 10).
        zero_init_residual: zero the last BatchNorm of every block. Default False (OLTR / LFME ``ResNetFeature``).
        **kwargs: mmpretrain ``ResNet``'s other arguments (``out_indices``, ``frozen_stages``, ``norm_cfg``, ...).
    """

    arch_settings = {10: (BasicBlock, (1, 1, 1, 1))}

    def __init__(self, depth: int = 10, zero_init_residual: bool = False, **kwargs) -> None:
        if depth != 10:
            raise ValueError(f'ResNet10: depth must be 10, got {depth!r} (use mmpretrain ResNet for 18 ... 152)')
        super().__init__(depth=depth, zero_init_residual=zero_init_residual, **kwargs)
