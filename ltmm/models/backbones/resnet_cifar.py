"""ResNet-32 for CIFAR-LT, as in LDAM-DRW (Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware
Margin Loss", NeurIPS 2019; kaidic/LDAM-DRW ``models/resnet_cifar.py``) and the CIFAR-LT experiments of nearly every
long-tail paper since (RIDE, MiSLAS, BagofTricks-LT, ...).

He et al.'s CIFAR ResNet (ResNet paper, section 4.2): a 3x3 stem with 16 channels, then 3 stages of 5 basic blocks
with 16 / 32 / 64 channels at 32x32 / 16x16 / 8x8, and option-A shortcuts: where a block halves the resolution and
doubles the width, the identity is subsampled (stride 2) and zero-padded in channels, so shortcuts hold no weights.
0.46M parameters, a 64-d feature after global pooling. mmpretrain's ``ResNet_CIFAR`` is a different network (the
ImageNet ResNet-18..152 with a 3x3 stem, 64..512 channels).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import register_into


class _BasicBlockA(nn.Module):
    """3x3 conv-BN-ReLU, 3x3 conv-BN, plus the option-A shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride = stride
        self.pad = (out_channels - in_channels) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride != 1 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


@register_into('MODELS', scopes=('mmpretrain',))
class ResNet32CIFAR(BaseModule):
    """ResNet-32 with option-A shortcuts for 32x32 inputs (LDAM-DRW's ``resnet32``).

    Args:
        in_channels: input image channels (3).
        out_indices: stages whose output is returned, 0..2 (default: the last, 64 channels at 1/4 resolution).
        frozen_stages: freeze the stem (0) and the first ``frozen_stages`` stages (parameters and BatchNorm
            statistics); -1 freezes nothing. Same meaning as mmpretrain's ``ResNet``.
        norm_eval: keep every BatchNorm in eval mode while training (frozen statistics).
        init_cfg: weight init; Kaiming-normal (fan-in) convolutions as LDAM-DRW's ``_weights_init``.
    """
    stage_channels = (16, 32, 64)
    blocks_per_stage = 5

    def __init__(self, in_channels: int = 3, out_indices: Sequence[int] = (2, ), frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d', mode='fan_in',
                                                 nonlinearity='relu', distribution='normal')) -> None:
        super().__init__(init_cfg=init_cfg)
        if not all(0 <= i < len(self.stage_channels) for i in out_indices):
            raise ValueError(f'ResNet32CIFAR: out_indices {tuple(out_indices)} must lie in 0..2')
        if not -1 <= frozen_stages <= len(self.stage_channels):
            raise ValueError(f'ResNet32CIFAR: frozen_stages must lie in -1..3, got {frozen_stages}')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        width = self.stage_channels[0]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.stages = nn.ModuleList()
        for i, channels in enumerate(self.stage_channels):
            blocks = []
            for j in range(self.blocks_per_stage):
                blocks.append(_BasicBlockA(width, channels, 2 if i > 0 and j == 0 else 1))
                width = channels
            self.stages.append(nn.Sequential(*blocks))
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        frozen = ([self.stem] if self.frozen_stages >= 0 else []) + list(self.stages[:max(self.frozen_stages, 0)])
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'ResNet32CIFAR':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
