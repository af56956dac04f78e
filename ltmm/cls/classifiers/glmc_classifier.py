"""GLMC's classifier: Global and Local Mixture Consistency cumulative learning (Du et al., CVPR 2023), the batch
mixing and the two forward passes of a training step. The layers on the pooled feature and the loss are
:class:`~ltmm.cls.heads.GLMCHead`'s (see its module docstring for the loss).

Official code (no licence file; re-implemented from its maths, nothing copied): ynu-yangpeng/GLMC@2c0261cc
``GLMC-2023/utils/util.py`` (``rand_bbox`` lines 60-76, ``GLMC_mixed`` lines 188-204) and ``Trainer.py``
(``train``, lines 60-122).

A training sample is a pair (:class:`~ltmm.cls.datasets.PairedDataset` with
:class:`~ltmm.cls.samplers.PartnerSampler`): two views ``x_1, x_2`` of an instance-sampled image of class ``y`` and
two views ``x~_1, x~_2`` of a partner drawn with probability ``∝ n^(-q)`` per sample, of class ``y~``. Each step
draws one ``lam ~ Beta(a, a)`` for the batch (``a = 1``: the official ``GLMC_mixed(..., alpha=1)``; the command-line
``--beta`` only feeds an unused variable) and builds

- the MixUp batch ``lam x_1 + (1 - lam) x~_1`` (global mixing);
- the CutMix batch: ``x_2`` with one box of ``x~_2`` pasted in place (local mixing). The box has sides
  ``ceil(H sqrt(1 - lam))`` and ``ceil(W sqrt(1 - lam))`` around a uniform centre, half a side (rounded down) on
  each side of it, clipped to the image (``rand_bbox``). Its label weight is the same ``lam``, **not** corrected
  for the box's area after clipping, as the official code;

then runs the backbone, neck and head on each (two passes, so BatchNorm normalises each batch with its own
statistics, as the official code) and returns the head's loss. All of it happens in ``loss()``: mmengine's
``train_step`` (data preprocessor, ``forward(mode='loss')``, one ``optim_wrapper.update_params``) and
``MMDistributedDataParallel`` stay as they are (one DDP forward per step, all parameters used).

Randomness: ``lam`` and the box centre are drawn from torch's global generator on the CPU (the official code uses
NumPy's global generator). In a distributed run rank 0's draw is broadcast, so every rank mixes with the same
``lam`` and box, as the official ``nn.DataParallel`` run mixes its whole batch with one.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine import dist
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core.registry import register_into

NUM_VIEWS = 4  # x_1, x_2 of the sample, x~_1, x~_2 of its partner


def mixup(inputs: torch.Tensor, partner_inputs: torch.Tensor, lam: float) -> torch.Tensor:
    """GLMC's global mixing ``lam x + (1 - lam) x~`` (a new tensor)."""
    return lam * inputs + (1.0 - lam) * partner_inputs


def cutmix_box(height: int, width: int, lam: float, center: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """The official ``rand_bbox`` box ``(top, bottom, left, right)`` (rows ``top:bottom``, columns
    ``left:right``) for a ``(height, width)`` image, ``lam`` and the box centre ``(row, column)``.

    Sides ``ceil(height sqrt(1 - lam))``, ``ceil(width sqrt(1 - lam))``; the box spans half a side, rounded down,
    on each side of the centre (an odd side loses one pixel), clipped to the image.
    """
    ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = math.ceil(height * ratio), math.ceil(width * ratio)
    row, col = center
    top, bottom = min(max(row - cut_h // 2, 0), height), min(max(row + cut_h // 2, 0), height)
    left, right = min(max(col - cut_w // 2, 0), width), min(max(col + cut_w // 2, 0), width)
    return top, bottom, left, right


def cutmix_(inputs: torch.Tensor, partner_inputs: torch.Tensor, box: Tuple[int, int, int, int]) -> torch.Tensor:
    """GLMC's local mixing: paste ``partner_inputs``' ``box`` (:func:`cutmix_box`) into ``inputs`` in place, for
    the whole batch; returns ``inputs``."""
    top, bottom, left, right = box
    inputs[:, :, top:bottom, left:right] = partner_inputs[:, :, top:bottom, left:right]
    return inputs


def _labels(data_samples: Sequence[DataSample], field: str) -> torch.Tensor:
    missing = [i for i, ds in enumerate(data_samples) if field not in ds]
    if missing:
        raise ValueError(f'GLMCClassifier: data sample {missing[0]} has no {field}; GLMC trains on pairs '
                         '(train_dataloader: PairedDataset + PartnerSampler)')
    labels = torch.cat([ds.get(field).reshape(-1) for ds in data_samples])
    if len(labels) != len(data_samples):
        raise ValueError(f'GLMCClassifier: single-label data only, got {len(labels)} {field} for '
                         f'{len(data_samples)} samples')
    return labels


@register_into('MODELS', scopes=('mmpretrain',))
class GLMCClassifier(ImageClassifier):
    """An mmpretrain ``ImageClassifier`` trained as GLMC (module docstring); prediction is the head's (``fc_cb``).

    Training inputs: the list of four ``(N, C, H, W)`` views ``[x_1, x_2, x~_1, x~_2]`` and data samples with
    ``gt_label`` and ``partner_label`` (``PairedDataset`` over a two-view ``MultiView`` pipeline, collated with
    ``default_collate``); the views are not copied, and ``x_2`` receives the CutMix box in place. Test inputs: one
    ``(N, C, H, W)`` tensor.

    Args:
        backbone, neck, head, pretrained, init_cfg: as ``ImageClassifier``; ``head`` is a
            :class:`~ltmm.cls.heads.GLMCHead`.
        mix_alpha: ``a`` of ``lam ~ Beta(a, a)``. Default 1.0 (``GLMC_mixed``'s ``alpha=1``, the only value the
            official runs use).
        data_preprocessor: its config or module; default type mmpretrain's ``SelfSupDataPreprocessor``, which
            normalises lists of views (``ClsDataPreprocessor`` does not).
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 mix_alpha: float = 1.0, pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None, init_cfg: Optional[dict] = None) -> None:
        if not mix_alpha > 0:
            raise ValueError(f'GLMCClassifier: mix_alpha (of Beta(a, a)) must be > 0, got {mix_alpha!r}')
        if head is None:
            raise ValueError('GLMCClassifier needs a head (GLMCHead)')
        data_preprocessor = {} if data_preprocessor is None else data_preprocessor
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(dict(dict(type='SelfSupDataPreprocessor'), **data_preprocessor))
        super().__init__(backbone, neck=neck, head=head, pretrained=pretrained, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not callable(getattr(self.head, 'train_outputs', None)):
            raise TypeError(f'GLMCClassifier needs a GLMCHead, got {type(self.head).__name__}')
        self.mix_alpha = float(mix_alpha)

    def draw_mixing(self, height: int, width: int) -> Tuple[float, Tuple[int, int]]:
        """``lam ~ Beta(a, a)`` and a uniform CutMix box centre ``(row, column)`` of a ``(height, width)`` image,
        from torch's global CPU generator in that order; rank 0's in a distributed run (broadcast)."""
        concentration = torch.tensor(self.mix_alpha, dtype=torch.float64)
        lam = torch.distributions.Beta(concentration, concentration).sample()
        draw = torch.stack([lam, torch.randint(height, ()).double(), torch.randint(width, ()).double()])
        dist.broadcast(draw, src=0)  # in place, through the backend's device; a no-op in a single process
        return float(draw[0]), (int(draw[1]), int(draw[2]))

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """GLMC's loss of one batch of pairs (module docstring)."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != NUM_VIEWS:
            got = f'a list of {len(inputs)} views' if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f'GLMCClassifier trains on [x_1, x_2, x~_1, x~_2] (two views of a sample and of its '
                             f'partner: PairedDataset + PartnerSampler over a two-view pipeline, default_collate), '
                             f'got {got}')
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) != 1:
            raise ValueError(f'GLMCClassifier: the four views must have one shape, got {sorted(shapes)}')
        x1, x2, partner1, partner2 = inputs
        labels = _labels(data_samples, 'gt_label').to(x1.device)
        partner_labels = _labels(data_samples, 'partner_label').to(x1.device)
        height, width = x2.shape[-2:]
        lam, center = self.draw_mixing(height, width)
        mixed = mixup(x1, partner1, lam)
        cut = cutmix_(x2, partner2, cutmix_box(height, width, lam, center))
        return self.head.loss(self.extract_feat(mixed), self.extract_feat(cut), labels, partner_labels, lam)
