"""SE-ResNet with APA / AGLU activations: the backbone of the APA paper's LVIS detectors.

Alexandridis et al., "Adaptive Parametric Activation", ECCV 2024. Official code: kostas1515/AGLU@ed45253,
``mmdetection_v3.2/mmdet/models/backbones/se_resnet.py`` (``SE_ResNet(use_gumbel=True)``, ``SE_Block``,
``Bottleneck``), configs
``mmdetection_v3.2/configs/activations/mask_rcnn_r{50,101}_fpn_8x2_sample1e-3_mstrain_lvis_2x.py``.
The activations themselves are :mod:`ltmm.core.aglu`.
"""
from typing import Optional

import torch.utils.checkpoint as cp
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck, ResNet
from torch import Tensor, nn

from ...core.aglu import AGLU, APA
from ...core.registry import register_into


def _activation(use_aglu: bool) -> nn.Module:
    """A fresh AGLU (own lambda and kappa) or the ReLU it replaces."""
    return AGLU() if use_aglu else nn.ReLU(inplace=True)


class SqueezeExcitation(nn.Module):
    """The official SE block (``SE_Block``), on a block's last normalised output before the residual add.

    ``use_apa=True`` (official ``use_gumbel=True``): global average pool, LayerNorm(c), Linear(c, c // ratio, no bias),
    ReLU, Linear(c // ratio, c, no bias), Dropout(dropout), then :class:`~ltmm.core.aglu.APA` as the gate.
    ``use_apa=False``: pool, the two Linears and the ReLU, and a sigmoid gate (no LayerNorm, no Dropout). The module
    names are the official ones (``norm``, ``excitation``, ``uniact``), so official checkpoints load.

    Args:
        channels: c.
        ratio: the reduction ratio. Default 16 (official ``r=16``).
        use_apa: the APA gate with LayerNorm and Dropout, or the plain SE block. Default True.
        dropout: the Dropout probability after the second Linear (APA gate only). Default 0.1 (official).
    """

    def __init__(self, channels: int, ratio: int = 16, use_apa: bool = True, dropout: float = 0.1) -> None:
        super().__init__()
        if not 1 <= ratio <= channels:
            raise ValueError(f'SqueezeExcitation: ratio must be in [1, {channels}] (the channels), got {ratio}')
        self.use_apa = use_apa
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        layers = [nn.Linear(channels, channels // ratio, bias=False), nn.ReLU(inplace=True),
                  nn.Linear(channels // ratio, channels, bias=False)]
        if use_apa:
            self.norm = nn.LayerNorm(channels)
            layers.append(nn.Dropout(dropout))
            self.uniact = APA()
        self.excitation = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        y = self.squeeze(x).flatten(1)
        if self.use_apa:
            y = self.norm(y)
        y = self.excitation(y)
        y = self.uniact(y) if self.use_apa else y.sigmoid()
        return x * y[:, :, None, None]


class SEBottleneckAGLU(Bottleneck):
    """mmdet's Bottleneck with an SE block on the bn3 output (before the residual add) and its three ReLUs replaced by
    three independent activations ``unirect1`` (after bn1), ``unirect2`` (after bn2), ``unirect3`` (after the add):
    AGLU with ``use_aglu=True``, ReLU otherwise (official ``Bottleneck`` of se_resnet.py). mmdet's shared ``relu`` is
    removed."""

    def __init__(self, *args, se_ratio: int = 16, use_aglu: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.relu
        self.unirect1, self.unirect2, self.unirect3 = (_activation(use_aglu) for _ in range(3))
        self.se = SqueezeExcitation(self.planes * self.expansion, se_ratio, use_apa=use_aglu)

    def forward(self, x: Tensor) -> Tensor:
        def _inner_forward(x: Tensor) -> Tensor:
            out = self.unirect1(self.norm1(self.conv1(x)))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv1_plugin_names)
            out = self.unirect2(self.norm2(self.conv2(out)))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv2_plugin_names)
            out = self.norm3(self.conv3(out))
            if self.with_plugins:
                out = self.forward_plugin(out, self.after_conv3_plugin_names)
            out = self.se(out)
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        out = cp.checkpoint(_inner_forward, x, use_reentrant=False) if self.with_cp and x.requires_grad \
            else _inner_forward(x)
        return self.unirect3(out)


class SEBasicBlockAGLU(BasicBlock):
    """mmdet's BasicBlock with an SE block on the bn2 output (before the residual add) and its two ReLUs replaced by
    two independent activations ``unirect1`` (after bn1) and ``unirect2`` (after the add).

    Not in the official code, whose BasicBlock (ResNet-18/34) ignores ``use_gumbel`` and keeps plain ReLU without SE:
    ltmm adds it, the Bottleneck's pattern on two convolutions, for the CPU demo detector (a narrow ResNet-18).
    """

    def __init__(self, *args, se_ratio: int = 16, use_aglu: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.relu
        self.unirect1, self.unirect2 = _activation(use_aglu), _activation(use_aglu)
        self.se = SqueezeExcitation(self.norm2.num_features, se_ratio, use_apa=use_aglu)

    def forward(self, x: Tensor) -> Tensor:
        def _inner_forward(x: Tensor) -> Tensor:
            out = self.unirect1(self.norm1(self.conv1(x)))
            out = self.se(self.norm2(self.conv2(out)))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        out = cp.checkpoint(_inner_forward, x, use_reentrant=False) if self.with_cp and x.requires_grad \
            else _inner_forward(x)
        return self.unirect2(out)


@register_into('MODELS', scopes=('mmdet',))
class SEResNetAGLU(ResNet):
    """SE-ResNet whose ReLUs are AGLUs and whose SE gates are APAs (official ``SE_ResNet(use_gumbel=True)``).

    mmdet's ResNet (same arguments, stages, freezing, ``norm_eval`` and init) with:

    - the stem ReLU replaced by an AGLU (``relu``, the official name); a ``deep_stem`` keeps its ReLUs, as the official;
    - every block an :class:`SEBottleneckAGLU` (depth 50 / 101 / 152) or :class:`SEBasicBlockAGLU` (18 / 34): an SE
      block with an APA gate before the residual add and one independent AGLU per ReLU of the block.

    SE-R50: 1 + 16 x 3 = 49 AGLUs and 16 APAs, 65 modules with one lambda and one kappa each (130 scalars); the only
    ReLUs left are the 16 inside the SE blocks (official). ``frozen_stages`` freezes the stem convolution and norm but
    not the stem AGLU (mmdet's and the official ``_freeze_stages``). lambda and kappa are ordinary parameters (the
    optimizer's weight decay applies, as in the official runs). The state-dict keys are the official ones
    (``layer1.0.unirect1.lambda_param``, ``layer1.0.se.uniact.kappa_param``, ``layer1.0.se.norm.weight``,
    ``layer1.0.se.excitation.0.weight``, ...), so the official ImageNet SE-R50-AGLU checkpoint loads with
    ``init_cfg=dict(type='Pretrained', checkpoint=...)``.

    Args:
        depth: 18, 34, 50, 101 or 152.
        se_ratio: the SE reduction ratio. Default 16 (official ``r=16``).
        use_aglu: AGLU / APA (default, official ``use_gumbel=True``), or the plain SE-ResNet (ReLU, sigmoid gate
            without LayerNorm and Dropout: official ``use_gumbel=False``).
        **kwargs: mmdet ``ResNet`` arguments. With neither ``init_cfg`` nor ``pretrained``, mmdet's default init
            (Kaiming convolutions, unit norms, and with ``zero_init_residual`` the last norm of each block at 0) is
            applied to these blocks too (mmdet matches its own block classes only).
    """

    arch_settings = {
        18: (SEBasicBlockAGLU, (2, 2, 2, 2)),
        34: (SEBasicBlockAGLU, (3, 4, 6, 3)),
        50: (SEBottleneckAGLU, (3, 4, 6, 3)),
        101: (SEBottleneckAGLU, (3, 4, 23, 3)),
        152: (SEBottleneckAGLU, (3, 8, 36, 3)),
    }

    def __init__(self, depth: int, se_ratio: int = 16, use_aglu: bool = True, **kwargs) -> None:
        # read by make_res_layer, which ResNet.__init__ calls
        self.se_ratio = se_ratio
        self.use_aglu = use_aglu
        self.zero_init_norm: Optional[str] = None
        if kwargs.get('init_cfg') is None and kwargs.get('pretrained') is None \
                and kwargs.get('zero_init_residual', True) and depth in self.arch_settings:
            self.zero_init_norm = 'norm2' if self.arch_settings[depth][0] is SEBasicBlockAGLU else 'norm3'
        super().__init__(depth, **kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        super()._make_stem_layer(in_channels, stem_channels)
        if not self.deep_stem:
            self.relu = _activation(self.use_aglu)

    def make_res_layer(self, **kwargs) -> nn.Module:
        if self.zero_init_norm is not None:
            kwargs['init_cfg'] = dict(type='Constant', val=0, override=dict(name=self.zero_init_norm))
        return super().make_res_layer(se_ratio=self.se_ratio, use_aglu=self.use_aglu, **kwargs)
