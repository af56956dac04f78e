"""NCL's self-supervised feature enhancement (Li et al., CVPR 2022; official ``multi_Network_MOCO`` and
``lib/net/MOCO.py`` in Bazinga699/NCL, enabled by ``NETWORK.MOCO: True`` in
``cifar100_im100_NCL_with_contrastive.yaml`` and ``Places_LT_NCL.yaml``; summary in ltmm's research note
``experts_distillation.md`` section 2).

Per expert ``k`` (official ``lib/net/network.py`` ``multi_Network_MOCO``, ``lib/core/combiner.py``
``multi_network_default_CON``, ``lib/core/function.py`` ``multi_networks_train_model``): the query network (backbone +
pooling) feeds the classifier (``classifier_ce``, the NCL losses) and a projection ``Linear(D, D) + ReLU +
Linear(D, d)`` (``classifier``, ``SEMI_TYPE: 'mlp'``, with bias); a key network (``backbone_MA`` + ``module_MA``) and a
key projection (``classifier_MA``) map view 2 to the key. The unsupervised MoCo InfoNCE per expert, with ``q``, ``k``
unit vectors and the expert's own queue ``Q`` (no labels, no class balancing)::

    L_k = CE([q . k, q . Q^T] / T, 0),   L = NCL(N, K, C logits of view 1) + con_ratio * sum_k L_k

As the official code runs it:
- the key networks are built with their **own random initialisation** (never copied from the query networks; equal
  only when both load the same pretrained weights, as Places-LT's ImageNet ResNet-152) and the key projections are
  **never updated** (``param.detach_()``, no EMA): they stay at their random initialisation;
- the keys are computed **before** the EMA update of this step, and the update runs before ``backward`` / the optimiser
  step: ``theta_key <- a theta_key + (1 - a) theta`` on the parameters of backbone + pooling (buffers: the key
  networks' own BatchNorm statistics, from their train-mode forward on view 2);
- the update loop runs once per expert over **all** experts' parameters (``for net_id in range(network_num)`` around
  a ``zip`` of the whole ``backbone_MA`` / ``backbone`` lists), so each step applies the EMA ``K`` times: the
  effective momentum is ``a ** K`` (0.999 ** 3 = 0.997); ``repeat_ema=True`` reproduces it;
- the queue (``MoCo`` buffer, ``dim x K`` unit random columns) is enqueued with this step's keys right after the
  loss of that expert; here an :class:`ltmm.cls.classifiers.labelled_queue.LabelledQueue` per expert
  (all-gathered under DDP; the labels it stores are unused by this loss);
- shuffle-BN over the key batch (single device: a permutation, a no-op for BatchNorm; DDP: across ranks).
T = 0.2, queue 1024, d = 64, a = 0.999 (CIFAR yaml); Places: d 1024, queue 65536. CON_RATIO 1.0. Queue, key networks
and key heads are buffers / submodules, so in the checkpoint (a resumed run continues them).

Deviations: on a single device the key batch is not permuted (BatchNorm is permutation invariant, so the result is the
same). The queue is stored rows-first (``(K, d)``), the transpose of the official ``(d, K)``.
"""
import copy
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from .contrast_classifier import last
from .labelled_queue import LabelledQueue
from .ncl_classifier import NCLClassifier
from .queue_contrast_classifier import shuffle_bn_keys


def moco_infonce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """MoCo's InfoNCE: ``q``, ``k`` ``(N, d)`` unit vectors, ``queue`` ``(K, d)`` unit negatives; mean over the batch
    of ``CE([q.k, q.queue^T] / T, 0)``. ``k`` and ``queue`` carry no gradient (the caller passes them detached)."""
    pos = (q * k).sum(dim=1, keepdim=True)
    logits = torch.cat([pos, q @ queue.t()], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long, device=q.device))


def projection(in_channels: int, dim: int) -> nn.Sequential:
    """NCL's MoCo projection head ``Linear(D, D) + ReLU + Linear(D, d)``."""
    return nn.Sequential(nn.Linear(in_channels, in_channels), nn.ReLU(inplace=True), nn.Linear(in_channels, dim))


@torch.no_grad()
def ema_update_(key: nn.Module, query: nn.Module, momentum: float) -> None:
    """``theta_key <- momentum * theta_key + (1 - momentum) * theta`` over the parameters (not the buffers)."""
    for k_param, q_param in zip(key.parameters(), query.parameters()):
        k_param.mul_(momentum).add_(q_param.detach(), alpha=1.0 - momentum)


@register_into('MODELS', scopes=('mmpretrain',))
class NCLMoCoClassifier(NCLClassifier):
    """:class:`NCLClassifier` with NCL's per-expert MoCo branch (module docstring). Training inputs are two views
    (mmpretrain ``MultiView`` with ``num_views=[1, 1]``: view 1 the classification view, view 2 the key view);
    prediction uses the first view only.

    Args (beside :class:`NCLClassifier`'s):
        moco_dim: ``d``. Default 64 (``NETWORK.MOCO_DIM``, ``cifar100_im100_NCL_with_contrastive.yaml``).
        queue_size: per-expert queue length. Default 1024 (``NETWORK.MOCO_K``, same yaml).
        temperature: ``T``. Default 0.2 (``NETWORK.MOCO_T``, same yaml).
        momentum: EMA ``a`` of the key networks. Default 0.999 (``NETWORK.MA_MODEL_ALPHA``, same yaml).
        repeat_ema: apply the EMA ``K`` times per step, as the official loop (module docstring). Default True.
        con_ratio: weight of the summed InfoNCE terms. Default 1.0 (``LOSS.CON_RATIO``, same yaml).
        shuffle_bn: shuffle the key batch across ranks (DDP). Default True (``combiner.py``).
    """

    def __init__(self, *args, moco_dim: int = 64, queue_size: int = 1024, temperature: float = 0.2,
                 momentum: float = 0.999, repeat_ema: bool = True, con_ratio: float = 1.0, shuffle_bn: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 < momentum < 1.0 or temperature <= 0 or moco_dim < 1:
            raise ValueError(f'NCLMoCoClassifier: need 0 < momentum < 1 (got {momentum}), temperature > 0 (got '
                             f'{temperature}) and moco_dim >= 1 (got {moco_dim})')
        backbone, neck = kwargs.get('backbone', args[0] if args else None), kwargs.get('neck')
        in_channels = kwargs.get('in_channels', args[2] if len(args) > 2 else None)
        neck = dict(type='GlobalAveragePooling') if neck is None else neck
        self.temperature, self.con_ratio, self.shuffle_bn = float(temperature), float(con_ratio), bool(shuffle_bn)
        self.momentum = float(momentum) ** (self.num_experts if repeat_ema else 1)
        self.projections = nn.ModuleList(projection(in_channels, moco_dim) for _ in range(self.num_experts))
        self.key_encoders = nn.ModuleList(
            nn.Sequential(MODELS.build(copy.deepcopy(backbone)), MODELS.build(copy.deepcopy(neck)))
            for _ in range(self.num_experts))
        self.key_projections = nn.ModuleList(projection(in_channels, moco_dim) for _ in range(self.num_experts))
        self.key_encoders.requires_grad_(False)
        self.key_projections.requires_grad_(False)
        self.queues = nn.ModuleList(LabelledQueue(queue_size, moco_dim) for _ in range(self.num_experts))

    @torch.no_grad()
    def key_features(self, k: int, x_k: torch.Tensor) -> torch.Tensor:
        """Unit keys of ``x_k`` from expert ``k``'s key network and key projection (shuffle-BN under DDP)."""
        return shuffle_bn_keys(lambda x: F.normalize(self.key_projections[k](last(self.key_encoders[k](x))), dim=1),
                               x_k, self.shuffle_bn)

    @torch.no_grad()
    def momentum_update(self) -> None:
        """The EMA of every expert's key network towards its query network (backbone + pooling)."""
        for key, backbone, neck in zip(self.key_encoders, self.backbones, self.necks):
            ema_update_(key, nn.Sequential(backbone, neck), self.momentum)

    def loss(self, inputs, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError('NCLMoCoClassifier: training needs two views (a MultiView pipeline with num_views=[1, 1]:'
                             ' the classification view, then the key view)')
        if 'gt_score' in data_samples[0]:
            raise ValueError('NCLMoCoClassifier: NCLLoss takes hard labels; remove mixup / cutmix batch augments')
        x_q, x_k = inputs
        label = torch.cat([sample.gt_label for sample in data_samples])
        feats = self.extract_feat(x_q)
        keys = [self.key_features(k, x_k) for k in range(self.num_experts)]
        logits = torch.stack([fc(feats[:, k]) for k, fc in enumerate(self.classifiers)], dim=1)
        losses = {'loss': self.loss_module(logits, label, avg_factor=logits.size(0))}
        con = []
        for k, key in enumerate(keys):
            q = F.normalize(self.projections[k](feats[:, k]), dim=1)
            con.append(moco_infonce(q, key, self.queues[k].feats.clone().detach(), self.temperature))
            self.queues[k].enqueue(key, label)
        losses['loss_moco'] = self.con_ratio * torch.stack(con).sum()
        self.momentum_update()  # after the keys, before the optimiser step (function.py)
        return losses

    def predict(self, inputs, data_samples=None):
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        return super().predict(inputs, data_samples)
