"""A projection MLP on a pooled feature, with or without BatchNorm: the contrastive projection heads of PaCo
(``Linear(F, F) - BN - ReLU - Linear(F, d)``, dvlab-research/Parametric-Contrastive-Learning@fe56535e
``PaCo/LT/moco/builder.py`` line 50) and GPaCo (``Linear(F, F) - ReLU - Linear(F, F) - ReLU - Linear(F, d)``, no BN,
``GPaCo/LT/moco/builder.py`` line 47). mmpretrain's ``NonLinearNeck`` always normalises its hidden layers and
``MoCoV2Neck`` has two layers, so neither builds GPaCo's."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from ...core.registry import register_into


@register_into('MODELS', scopes=('mmpretrain',))
class MLPNeck(BaseModule):
    """``Linear - [norm] - ReLU - ... - Linear`` over ``channels`` (every Linear with bias; a norm layer and a ReLU
    after each but the last), on the last feature of a tuple of ``(N, channels[0])`` features.

    Args:
        channels: the widths, input first: ``(F, F, d)`` is PaCo's, ``(F, F, F, d)`` GPaCo's. At least two.
        norm_cfg: the norm after each hidden Linear (PaCo: ``dict(type='BN1d')``, the official plain
            ``BatchNorm1d``), or None for none (GPaCo). Default None.
        init_cfg: mmengine's; default None keeps PyTorch's Linear initialisation (the official one).
    """

    def __init__(self, channels: Sequence[int], norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        channels = [int(c) for c in channels]
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f'MLPNeck: channels needs at least two positive widths, got {channels}')
        layers = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            layers.append(nn.Linear(c_in, c_out))
            if i < len(channels) - 2:
                if norm_cfg is not None:
                    layers.append(build_norm_layer(norm_cfg, c_out)[1])
                layers.append(nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(*layers)

    def forward(self, inputs: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor]:
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        return (self.mlp(x.flatten(1)), )
