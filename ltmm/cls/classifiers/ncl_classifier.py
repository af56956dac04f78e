"""NCL's model (Li et al., "Nested Collaborative Learning for Long-Tailed Visual Recognition", CVPR 2022; official
code Bazinga699/NCL, BSD-2, ``lib/net/network.py`` ``multi_Network`` and ``Cos_Classifier``, read at commit f64fddb3):
``K`` completely separate networks, each a full backbone, global average pooling and its own classifier; nothing is
shared (unlike RIDE's shared stem, so ltmm's ``RIDEResNet`` cannot express it). Every expert sees the same augmented
batch; training hands the (N, K, C) raw expert logits to a multi-expert loss (:class:`ltmm.cls.losses.NCLLoss`); the
prediction is the mean of the raw expert logits (the official test).

Classifiers (``classifier``):
- ``'linear'``: ``nn.Linear(D, C)`` with bias, PyTorch's default initialisation (the CIFAR configs' ``TYPE: 'FC'``,
  ``BIAS: True``).
- ``'cosine'``: ``scale * <x / |x|, w_c / |w_c|> + b_c`` with a learnable bias ``b`` initialised at 0 and ``w``
  uniform in ``[-1/sqrt(D), 1/sqrt(D)]`` (``Cos_Classifier``; the ImageNet-LT / iNaturalist configs' ``TYPE: 'cos'``,
  ``BIAS: True``, ``COS_SCALE`` 16 by default, 32 for iNaturalist). Deviation: the norms take an epsilon
  (``F.normalize``, 1e-12) where the official divides by the bare norm; the official allocates its parameters with
  ``.cuda()`` in ``__init__``, these follow the model's device.
"""
import copy
import math
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.classifiers.base import BaseClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core.registry import register_into

CLASSIFIERS = ('linear', 'cosine')


class NCLCosineLinear(nn.Module):
    """NCL's cosine classifier with a learnable bias (module docstring).

    Args:
        in_channels: feature dimension ``D``.
        num_classes: ``C``.
        scale: the cosine scale. Default 16 (``CLASSIFIER.COS_SCALE`` default, ``lib/config/default.py``).
    """

    def __init__(self, in_channels: int, num_classes: int, scale: float = 16.0) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f'NCLCosineLinear: scale must be positive, got {scale}')
        self.scale = float(scale)
        bound = 1.0 / math.sqrt(in_channels)
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(x, dim=1) @ F.normalize(self.weight, dim=1).t() + self.bias


@register_into('MODELS', scopes=('mmpretrain',))
class NCLClassifier(BaseClassifier):
    """``K`` independent networks (backbone, neck, classifier) trained jointly by a multi-expert loss; the prediction
    is the mean of their raw logits (module docstring).

    Args:
        backbone: backbone config, built ``num_experts`` times (independent weights and initialisations).
        num_classes: ``C``.
        in_channels: pooled feature dimension ``D`` of one backbone.
        loss: the multi-expert loss config taking (N, K, C) logits (``NCLLoss``); ``num_classes`` is filled in.
        num_experts: ``K``. Default 3 (``MULTI_NETWORK_TYPE`` lists 3 networks in every official config).
        neck: neck config built per expert. Default global average pooling (``MODULE.TYPE: 'GAP'``).
        classifier: 'linear' or 'cosine'. Default 'linear'.
        cos_scale: scale of the cosine classifier. Default 16.0.
        data_preprocessor: as mmpretrain's ``ImageClassifier`` (default ``ClsDataPreprocessor``).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, backbone: dict, num_classes: int, in_channels: int, loss: dict, num_experts: int = 3,
                 neck: Optional[dict] = None, classifier: str = 'linear', cos_scale: float = 16.0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
        super().__init__(init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        if num_experts < 1 or num_classes < 1 or in_channels < 1:
            raise ValueError(f'NCLClassifier: num_experts ({num_experts}), num_classes ({num_classes}) and '
                             f'in_channels ({in_channels}) must be positive')
        if classifier not in CLASSIFIERS:
            raise ValueError(f'NCLClassifier: classifier must be one of {CLASSIFIERS}, got {classifier!r}')
        neck = dict(type='GlobalAveragePooling') if neck is None else neck
        self.num_experts = num_experts
        self.num_classes = num_classes
        self.backbones = nn.ModuleList(MODELS.build(copy.deepcopy(backbone)) for _ in range(num_experts))
        self.necks = nn.ModuleList(MODELS.build(copy.deepcopy(neck)) for _ in range(num_experts))
        if classifier == 'linear':
            self.classifiers = nn.ModuleList(nn.Linear(in_channels, num_classes) for _ in range(num_experts))
        else:
            self.classifiers = nn.ModuleList(NCLCosineLinear(in_channels, num_classes, cos_scale)
                                             for _ in range(num_experts))
        self.loss_module = MODELS.build(dict(loss, num_classes=num_classes))
        if not getattr(self.loss_module, 'multi_expert', False):
            raise TypeError(f'NCLClassifier needs a multi-expert loss taking (N, K, C) logits (e.g. NCLLoss), got '
                            f'{type(self.loss_module).__name__}')

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pooled features of every expert, shape (N, K, D)."""
        feats = []
        for backbone, neck in zip(self.backbones, self.necks):
            x = neck(backbone(inputs))
            feats.append(x[-1] if isinstance(x, (tuple, list)) else x)
        return torch.stack(feats, dim=1)

    def expert_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw logits of every expert, shape (N, K, C)."""
        feats = self.extract_feat(inputs)
        return torch.stack([fc(feats[:, k]) for k, fc in enumerate(self.classifiers)], dim=1)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.expert_logits(inputs).mean(dim=1)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'NCLClassifier: invalid mode "{mode}"')

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        if 'gt_score' in data_samples[0]:
            raise ValueError('NCLClassifier: NCLLoss takes hard labels; remove batch augments that produce soft '
                             'targets (mixup / cutmix)')
        label = torch.cat([sample.gt_label for sample in data_samples])
        logits = self.expert_logits(inputs)
        return {'loss': self.loss_module(logits, label, avg_factor=logits.size(0))}

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        logits = self.expert_logits(inputs).mean(dim=1)
        scores = F.softmax(logits, dim=1)
        labels = scores.argmax(dim=1, keepdim=True).detach()
        if data_samples is None:
            data_samples = [DataSample() for _ in range(logits.size(0))]
        out = []
        for sample, score, label in zip(data_samples, scores, labels):
            sample = DataSample() if sample is None else sample
            out.append(sample.set_pred_score(score).set_pred_label(label))
        return out
