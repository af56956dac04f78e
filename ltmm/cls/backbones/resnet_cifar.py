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

from ...core.registry import register_into
from .ride_resnet import forward_expert_stages, forward_one_expert, forward_shared_stages


class CIFARBasicBlock(nn.Module):
    """3x3 conv-BN-ReLU, 3x3 conv-BN, plus the shortcut, then ReLU. Shortcut ``'A'`` (LDAM-DRW's ``resnet32``): the
    input subsampled and zero-padded in channels, no parameters; ``'B'`` (SHIKE's ``BasicBlock`` default): a 1x1
    conv + BN projection (``shortcut``) where the shape changes, the identity elsewhere."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, shortcut: str = 'A') -> None:
        super().__init__()
        if shortcut not in ('A', 'B'):
            raise ValueError(f"CIFARBasicBlock: shortcut must be 'A' or 'B', got {shortcut!r}")
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.option = shortcut
        self.stride = stride
        self.pad = (out_channels - in_channels) // 2
        if shortcut == 'B':
            self.shortcut = nn.Sequential()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                              nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.option == 'B':
            return F.relu(out + self.shortcut(x))
        shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride != 1 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


def cifar_stage(in_channels: int, out_channels: int, stride: int, num_blocks: int = 5,
                shortcut: str = 'A') -> nn.Sequential:
    """``num_blocks`` :class:`CIFARBasicBlock` s, the first with ``stride`` and the width change."""
    return nn.Sequential(*(CIFARBasicBlock(in_channels if j == 0 else out_channels, out_channels,
                                           stride if j == 0 else 1, shortcut) for j in range(num_blocks)))


@register_into('MODELS', scopes=('mmpretrain',))
class ResNet32CIFAR(BaseModule):
    """ResNet-32 with option-A shortcuts for 32x32 inputs (LDAM-DRW's ``resnet32``), optionally with RIDE's
    experts (frank-xwang/RIDE-LongTailRecognition ``model/ldam_drw_resnets/ride_resnet_cifar.py``): the stem and the
    first ``num_shared_stages`` stages are shared, every later stage has one copy per expert, and a per-expert
    stage's output is the experts' feature maps concatenated along channels (see ``forward_expert_stages``). RIDE's
    CIFAR network is ``num_experts=3, num_shared_stages=1, stage_channels=(16, 24, 48)`` (``reduce_dimension``).

    Args:
        in_channels: input image channels (3).
        stage_channels: widths of the three stages; the stem has the first. Default (16, 32, 64).
        num_experts: ``K``. Default 1 (the plain network).
        num_shared_stages: stages shared by all experts, 0..3. Default 3 (all: the plain network); must be < 3
            when ``num_experts > 1``.
        out_indices: stages whose output is returned, 0..2 (default: the last, ``K * stage_channels[2]`` channels
            at 1/4 resolution).
        frozen_stages: freeze the stem (0) and the first ``frozen_stages`` stages (parameters and BatchNorm
            statistics); -1 freezes nothing. Same meaning as mmpretrain's ``ResNet``.
        norm_eval: keep every BatchNorm in eval mode while training (frozen statistics).
        init_cfg: weight init; Kaiming-normal (fan-in) convolutions as LDAM-DRW's ``_weights_init``.
    """

    def __init__(self, in_channels: int = 3, stage_channels: Sequence[int] = (16, 32, 64), num_experts: int = 1,
                 num_shared_stages: int = 3, out_indices: Sequence[int] = (2, ), frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d', mode='fan_in',
                                                 nonlinearity='relu', distribution='normal')) -> None:
        super().__init__(init_cfg=init_cfg)
        num_stages = 3
        if len(stage_channels) != num_stages or any((b - a) % 2 or b < a for a, b in
                                                    zip(stage_channels, stage_channels[1:])):
            raise ValueError(f'ResNet32CIFAR: stage_channels must be 3 non-decreasing widths whose steps are even '
                             f'(option-A shortcuts pad both sides), got {tuple(stage_channels)}')
        if num_experts < 1 or not 0 <= num_shared_stages <= num_stages or (num_experts > 1 and
                                                                          num_shared_stages == num_stages):
            raise ValueError(f'ResNet32CIFAR: num_experts ({num_experts}) must be >= 1 and num_shared_stages '
                             f'({num_shared_stages}) in 0..3, below 3 when there are several experts')
        if not all(0 <= i < num_stages for i in out_indices):
            raise ValueError(f'ResNet32CIFAR: out_indices {tuple(out_indices)} must lie in 0..2')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'ResNet32CIFAR: frozen_stages must lie in -1..3, got {frozen_stages}')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        width = stage_channels[0]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.stages = nn.ModuleList()
        for i, channels in enumerate(stage_channels):
            stride = 1 if i == 0 else 2
            self.stages.append(cifar_stage(width, channels, stride) if i < num_shared_stages else
                               nn.ModuleList(cifar_stage(width, channels, stride) for _ in range(num_experts)))
            width = channels
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        frozen = ([self.stem] if self.frozen_stages >= 0 else []) + list(self.stages[:max(self.frozen_stages, 0)])
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return forward_expert_stages(self.stem(x), self.stages, self.out_indices)

    def forward_shared(self, x: torch.Tensor) -> torch.Tensor:
        """The stem and the shared stages on images ``x`` (a multi-expert network; :meth:`forward_expert` continues
        from it)."""
        return forward_shared_stages(self.stem(x), self.stages, self.out_indices)

    def forward_expert(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Expert ``k``'s last-stage feature map (N, D, H, W) from the output of :meth:`forward_shared`."""
        return forward_one_expert(x, self.stages, self.out_indices, k)

    def train(self, mode: bool = True) -> 'ResNet32CIFAR':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
