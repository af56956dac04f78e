"""SHIKE's depth-wise knowledge fusion (DKF) ResNet-32 for CIFAR (Jin et al., "Long-Tailed Visual Recognition via
Self-Heterogeneous Integration with Knowledge Excavation", CVPR 2023; official code jinyan-06/SHIKE ``networks.py``
``ResNet_MoE`` / ``ShallowExpert`` / ``StridedConv``, no licence file, read at commit 2b04b62d to check facts;
re-implemented from the implementer's note, nothing copied).

Shared: stem conv (16) + ``layer1`` (16 ch) + ``layer2`` (32 ch). Each expert ``k`` has its own ``layer3`` (64 ch) and
a shallow branch that reads the output of shared layer ``depths[k % len(depths)]`` counted from the top: with the
official ``depths = (2, 1)`` experts 0 and 2 read ``layer1`` (two strided 3x3 convs 16->32->64) and expert 1 reads
``layer2`` (one strided conv 32->64). Each strided conv is 3x3 stride 2 + BN + ReLU except the last conv of a two-conv
branch, which has no ReLU (as the official ``ShallowExpert``). DKF: the expert's ``layer3`` map times (element-wise)
its shallow map. The blocks use the option-B shortcut (1x1 conv + BN, ``CIFARBasicBlock(shortcut='B')``), the
official ``BasicBlock`` default.

Returns the fused maps of the K experts concatenated along channels, (N, K * 64, 8, 8), for mmpretrain's
``GlobalAveragePooling`` and ``MultiExpertClsHead``.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from ...core.registry import register_into
from .resnet_cifar import cifar_stage


def _shallow_branch(in_channels: int, depth: int) -> nn.Sequential:
    """``depth`` strided 3x3 convs doubling the channels; ReLU after each but the last of a multi-conv branch."""
    layers = []
    for i in range(depth):
        layers += [nn.Conv2d(in_channels, in_channels * 2, 3, 2, 1, bias=False), nn.BatchNorm2d(in_channels * 2)]
        if depth == 1 or i < depth - 1:
            layers.append(nn.ReLU(inplace=True))
        in_channels *= 2
    return nn.Sequential(*layers)


@register_into('MODELS', scopes=('mmpretrain',))
class SHIKEResNet32(BaseModule):
    """SHIKE's DKF ResNet-32 (module docstring).

    Args:
        num_experts: ``K``. Default 3 (official CIFAR-100 run).
        depths: shallow-branch depths, cycled over experts. Default (2, 1) (official ``depth`` list).
        num_blocks: blocks per stage. Default 5 (ResNet-32).
        in_channels: image channels. Default 3.
        init_cfg: weight init. Default Kaiming-normal (fan-in) convolutions, the official ``_weights_init`` (its
            classifiers are ``NormedLinear``, not ``nn.Linear``, so it touches only the convolutions here).
    """

    def __init__(self, num_experts: int = 3, depths: Sequence[int] = (2, 1), num_blocks: int = 5,
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d', mode='fan_in', nonlinearity='relu',
                                                 distribution='normal')) -> None:
        super().__init__(init_cfg=init_cfg)
        depths = tuple(int(d) for d in depths)
        if num_experts < 1:
            raise ValueError(f'SHIKEResNet32: num_experts must be >= 1, got {num_experts}')
        if not depths or any(d not in (1, 2) for d in depths):
            raise ValueError(f'SHIKEResNet32: depths must be 1 (layer2) or 2 (layer1) each, got {depths}')
        self.num_experts = num_experts
        self.depths = tuple(depths[k % len(depths)] for k in range(num_experts))
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        self.layer1 = cifar_stage(16, 16, 1, num_blocks, 'B')
        self.layer2 = cifar_stage(16, 32, 2, num_blocks, 'B')
        self.layer3 = nn.ModuleList(cifar_stage(32, 64, 2, num_blocks, 'B') for _ in range(num_experts))
        self.shallow = nn.ModuleList(_shallow_branch(16 if d == 2 else 32, d) for d in self.depths)
        self.expert_channels = 64
        self.feat_dim = num_experts * 64

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """The K fused maps concatenated along channels, shape (N, K * 64, H / 4, W / 4)."""
        f1 = self.layer1(self.stem(x))
        f2 = self.layer2(f1)
        fused = [layer3(f2) * shallow(f1 if d == 2 else f2)
                 for layer3, shallow, d in zip(self.layer3, self.shallow, self.depths)]
        return (torch.cat(fused, dim=1), )
