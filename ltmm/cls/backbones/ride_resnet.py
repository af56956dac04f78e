"""RIDE's multi-expert ResNet / ResNeXt: shared early stages, one copy of the later stages per expert (Wang et al.,
"Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021;
frank-xwang/RIDE-LongTailRecognition ``model/fb_resnets/RIDEResNet.py``, ``RIDEResNeXt.py``).

On ImageNet-LT / iNaturalist / Places-LT RIDE shares the stem, ``layer1`` and ``layer2`` and gives each of its ``K``
experts its own ``layer3`` and ``layer4``; with ``reduce_dimension`` (used by every RIDE config) the expert stages
are 3/4 as wide (bottleneck planes 192 / 384 instead of 256 / 512, a 1536-d feature per expert for ResNet-50), so
three experts cost about as much as 1.5 plain networks.

The backbone returns, for each requested stage, the experts' feature maps concatenated along channels (expert ``k``
owns channels ``[k * D, (k + 1) * D)``): mmpretrain's ``GlobalAveragePooling`` neck works unchanged and
``MultiExpertClsHead`` splits the pooled vector back into the ``K`` expert features.
"""
from typing import List, Sequence, Tuple, Union

import torch
from mmpretrain.models.backbones import ResNet, ResNeXt
from torch import nn

from ...core.registry import register_into


def forward_expert_stages(x: torch.Tensor, stages: Sequence[Union[nn.Module, nn.ModuleList]],
                          out_indices: Sequence[int]) -> Tuple[torch.Tensor, ...]:
    """Run ``stages`` in order, where a stage is one shared module or an ``nn.ModuleList`` holding one module per
    expert; the input of a per-expert stage is the shared feature (first per-expert stage) or the same expert's
    previous output.

    Returns:
        the outputs of the stages in ``out_indices``; a per-expert stage's output is its experts' outputs
        concatenated along dim 1 (expert order).
    """
    feats: List[torch.Tensor] = [x]
    outs = []
    for i, stage in enumerate(stages):
        if isinstance(stage, nn.ModuleList):
            inputs = feats * len(stage) if len(feats) == 1 else feats
            feats = [expert(f) for expert, f in zip(stage, inputs)]
        else:
            if len(feats) != 1:
                raise ValueError(f'stage {i} is shared but follows a per-expert stage; shared stages must come first')
            feats = [stage(feats[0])]
        if i in out_indices:
            outs.append(feats[0] if len(feats) == 1 else torch.cat(feats, dim=1))
    return tuple(outs)


def _expert_stage_split(stages: Sequence[Union[nn.Module, nn.ModuleList]],
                        out_indices: Sequence[int]) -> int:
    """Index of the first per-expert stage; checks that the stages after it are all per-expert and that only the last
    stage is returned (what :func:`forward_shared_stages` / :func:`forward_one_expert` need)."""
    first = next((i for i, stage in enumerate(stages) if isinstance(stage, nn.ModuleList)), None)
    if first is None:
        raise ValueError('the backbone has no per-expert stage (num_experts=1 or every stage shared)')
    if tuple(out_indices) != (len(stages) - 1, ):
        raise ValueError(f'computing one expert needs out_indices=({len(stages) - 1},) (the last stage only), got '
                         f'{tuple(out_indices)}')
    return first


def forward_shared_stages(x: torch.Tensor, stages: Sequence[Union[nn.Module, nn.ModuleList]],
                          out_indices: Sequence[int]) -> torch.Tensor:
    """The output of the shared stages of ``stages`` (those before the first per-expert stage) on ``x``."""
    for stage in stages[:_expert_stage_split(stages, out_indices)]:
        x = stage(x)
    return x


def forward_one_expert(x: torch.Tensor, stages: Sequence[Union[nn.Module, nn.ModuleList]],
                       out_indices: Sequence[int], k: int) -> torch.Tensor:
    """Expert ``k``'s last-stage feature map from the shared feature ``x``: the per-expert stages of expert ``k``
    only. On the samples of ``x`` this equals channels ``[k * D, (k + 1) * D)`` of :func:`forward_expert_stages`
    (bit for bit when BatchNorm is in eval mode; in training mode BatchNorm's batch statistics depend on the
    samples given)."""
    first = _expert_stage_split(stages, out_indices)
    if not 0 <= k < len(stages[first]):
        raise ValueError(f'expert index {k} outside 0..{len(stages[first]) - 1}')
    for stage in stages[first:]:
        x = stage[k](x)
    return x


class _RIDEStagesMixin:
    """Turns the stages of an mmpretrain ResNet from ``num_shared_stages`` on into ``nn.ModuleList`` s of ``K``
    independently initialised copies ``expert_widen_factor`` times as wide."""

    def _split_into_experts(self, num_experts: int, num_shared_stages: int, expert_widen_factor: float,
                            drop_path_rate: float) -> None:
        name = type(self).__name__
        if num_experts < 1:
            raise ValueError(f'{name}: num_experts must be >= 1, got {num_experts}')
        if not 0 <= num_shared_stages < self.num_stages:
            raise ValueError(f'{name}: num_shared_stages must lie in 0..{self.num_stages - 1} (at least one stage '
                             f'per expert), got {num_shared_stages}')
        if expert_widen_factor <= 0:
            raise ValueError(f'{name}: expert_widen_factor must be positive, got {expert_widen_factor}')
        if tuple(self.out_indices) != (self.num_stages - 1, ):
            raise ValueError(f'{name}: only the last stage can be returned (out_indices=({self.num_stages - 1},)), '
                             f'got {tuple(self.out_indices)}')
        drop_path = torch.linspace(0, drop_path_rate, sum(self.stage_blocks)).tolist()
        first_block = [sum(self.stage_blocks[:i]) for i in range(self.num_stages)]
        in_channels = getattr(self, self.res_layers[num_shared_stages - 1])[-1].out_channels \
            if num_shared_stages else self.stem_channels
        for i in range(num_shared_stages, self.num_stages):
            out_channels = int(round(self.base_channels * self.expansion * 2**i * expert_widen_factor))
            blocks = self.stage_blocks[i]
            experts = nn.ModuleList(
                self.make_res_layer(block=self.block, num_blocks=blocks, in_channels=in_channels,
                                    out_channels=out_channels, expansion=self.expansion, stride=self.strides[i],
                                    dilation=self.dilations[i], style=self.style, avg_down=self.avg_down,
                                    with_cp=self.with_cp, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                    drop_path_rate=drop_path[first_block[i]:first_block[i] + blocks])
                for _ in range(num_experts))
            setattr(self, self.res_layers[i], experts)
            in_channels = out_channels
        self.expert_channels = in_channels
        self.feat_dim = num_experts * in_channels
        self._freeze_stages()

    def _stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x) if self.deep_stem else self.relu(self.norm1(self.conv1(x)))
        return self.maxpool(x)

    def _stages(self) -> List[Union[nn.Module, nn.ModuleList]]:
        return [getattr(self, name) for name in self.res_layers]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Experts' last-stage feature maps concatenated along channels, shape (N, K * D, H, W)."""
        return forward_expert_stages(self._stem_forward(x), self._stages(), self.out_indices)

    def forward_shared(self, x: torch.Tensor) -> torch.Tensor:
        """The shared part (stem and shared stages) on images ``x``; :meth:`forward_expert` continues from it."""
        return forward_shared_stages(self._stem_forward(x), self._stages(), self.out_indices)

    def forward_expert(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Expert ``k``'s last-stage feature map (N, D, H, W) from the output of :meth:`forward_shared`."""
        return forward_one_expert(x, self._stages(), self.out_indices, k)


@register_into('MODELS', scopes=('mmpretrain',))
class RIDEResNet(_RIDEStagesMixin, ResNet):
    """RIDE's multi-expert ResNet (``RIDEResNet.py``), built from mmpretrain's ``ResNet`` blocks.

    Args:
        depth: ResNet depth (18, 34, 50, 101, 152).
        num_experts: ``K``. Default 3 (RIDE's configs).
        num_shared_stages: stages shared by all experts (the stem is always shared). Default 2 (``layer1``,
            ``layer2``, as RIDE's ImageNet networks).
        expert_widen_factor: width of the expert stages relative to the plain network. Default 1.0; RIDE's
            ``reduce_dimension=True`` (all its configs) is 0.75.
        drop_path_rate: stochastic depth, as in mmpretrain's ``ResNet``. Default 0.0.
        **kwargs: the other arguments of mmpretrain's ``ResNet`` (``frozen_stages``, ``norm_eval``, ``init_cfg``,
            ...); ``out_indices`` must be the last stage.
    """

    def __init__(self, depth: int, num_experts: int = 3, num_shared_stages: int = 2, expert_widen_factor: float = 1.0,
                 drop_path_rate: float = 0.0, **kwargs) -> None:
        super().__init__(depth, drop_path_rate=drop_path_rate, **kwargs)
        self._split_into_experts(num_experts, num_shared_stages, expert_widen_factor, drop_path_rate)


@register_into('MODELS', scopes=('mmpretrain',))
class RIDEResNeXt(_RIDEStagesMixin, ResNeXt):
    """RIDE's multi-expert ResNeXt (``RIDEResNeXt.py``; 32x4d on ImageNet-LT), built from mmpretrain's ``ResNeXt``
    blocks. Arguments as ``RIDEResNet``, plus mmpretrain ``ResNeXt``'s ``groups`` (32) and ``width_per_group`` (4).
    """

    def __init__(self, depth: int, num_experts: int = 3, num_shared_stages: int = 2, expert_widen_factor: float = 1.0,
                 drop_path_rate: float = 0.0, **kwargs) -> None:
        super().__init__(depth, drop_path_rate=drop_path_rate, **kwargs)
        self._split_into_experts(num_experts, num_shared_stages, expert_widen_factor, drop_path_rate)
