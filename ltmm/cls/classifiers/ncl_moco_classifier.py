"""NCL's self-supervised feature enhancement (Li et al., CVPR 2022; official ``multi_Network_MOCO`` and
``lib/net/MOCO.py`` in Bazinga699/NCL, enabled by ``NETWORK.MOCO: True`` in
``cifar100_im100_NCL_with_contrastive.yaml`` and ``Places_LT_NCL.yaml``; summary in ltmm's research note
``experts_distillation.md`` section 2).

Per expert ``k``: the query network (backbone + pooling, shared with the classifier) feeds both the classifier (the
NCL losses) and a projection ``Linear(D, D) + ReLU + Linear(D, d)``; a key network (EMA copy of backbone + pooling,
``theta_key <- m theta_key + (1 - m) theta``, m = 0.999, updated before the optimiser step) and a key projection that
is **never trained or updated** (``classifier_MA`` stays at its random initialisation) map view 2 to the key. The
unsupervised InfoNCE of MoCo per expert, with ``q``, ``k`` unit vectors and the expert's own queue ``Q``::

    L_k = CE([q . k, q . Q^T] / T, 0),   L = NCL(N, K, C logits of view 1) + con_ratio * sum_k L_k

with T = 0.2, queue size 1024, d = 64 (CIFAR), con_ratio 1.0. Keys are enqueued after the loss (per expert queue, an
:class:`ltmm.cls.classifiers.labelled_queue.LabelledQueue`, all-gathered under DDP; the labels it stores are unused
by this unsupervised loss). The queue, the key networks and the key heads are buffers / submodules, so in the
checkpoint.

Deviations: the key projection is initialised independently with PyTorch's default ``nn.Linear`` initialisation (as
the official separate ``classifier_MA`` module); the queue starts as unit random keys (MoCo's init) stored rows-first.
"""
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from ...core.distributed import rank_and_world_size
from ...core.registry import register_into
from .labelled_queue import LabelledQueue
from .ncl_classifier import NCLClassifier
from .queue_contrast_classifier import MomentumEncoder


def moco_infonce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """MoCo's InfoNCE: ``q``, ``k`` ``(N, d)`` unit vectors, ``queue`` ``(K, d)`` unit negatives; mean over the batch
    of ``CE([q.k, q.queue^T] / T, 0)``. ``k`` and ``queue`` carry no gradient (the caller passes them detached)."""
    pos = (q * k).sum(dim=1, keepdim=True)
    logits = torch.cat([pos, q @ queue.t()], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long, device=q.device))


def projection(in_channels: int, dim: int) -> nn.Sequential:
    """NCL's MoCo projection head ``Linear(D, D) + ReLU + Linear(D, d)``."""
    return nn.Sequential(nn.Linear(in_channels, in_channels), nn.ReLU(inplace=True), nn.Linear(in_channels, dim))


@register_into('MODELS', scopes=('mmpretrain',))
class NCLMoCoClassifier(NCLClassifier):
    """:class:`NCLClassifier` with NCL's per-expert MoCo branch (module docstring). Training inputs are two views
    (mmpretrain ``MultiView``: view 1 the classification view, view 2 the key view); prediction uses one view.

    Args (beside :class:`NCLClassifier`'s):
        moco_dim: ``d``. Default 64 (``NETWORK.MOCO_DIM`` of the CIFAR contrastive yaml; Places 1024).
        queue_size: per-expert queue length. Default 1024 (``NETWORK.MOCO_K``, CIFAR; Places 65536).
        temperature: ``T``. Default 0.2 (``NETWORK.MOCO_T``).
        momentum: EMA ``m`` of the key networks. Default 0.999 (``NETWORK.MOCO_M``... ``MA`` update in the trainer).
        con_ratio: weight of the summed InfoNCE terms. Default 1.0 (``LOSS.CON_RATIO``).
        shuffle_bn: shuffle the key batch across ranks. Default True (the official DDP path).
    """

    def __init__(self, *args, moco_dim: int = 64, queue_size: int = 1024, temperature: float = 0.2,
                 momentum: float = 0.999, con_ratio: float = 1.0, shuffle_bn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 < momentum < 1.0 or temperature <= 0 or moco_dim < 1:
            raise ValueError(f'NCLMoCoClassifier: need 0 < momentum < 1 ({momentum}), temperature > 0 '
                             f'({temperature}), moco_dim >= 1 ({moco_dim})')
        in_channels = kwargs.get('in_channels', args[2] if len(args) > 2 else None)
        self.temperature, self.con_ratio, self.shuffle_bn = float(temperature), float(con_ratio), bool(shuffle_bn)
        self.projections = nn.ModuleList(projection(in_channels, moco_dim) for _ in range(self.num_experts))
        self.key_projections = nn.ModuleList(projection(in_channels, moco_dim) for _ in range(self.num_experts))
        self.key_projections.requires_grad_(False)
        self.key_encoders = nn.ModuleList(
            MomentumEncoder(nn.Sequential(b, n), momentum=1.0 - float(momentum))
            for b, n in zip(self.backbones, self.necks))
        self.queues = nn.ModuleList(LabelledQueue(queue_size, moco_dim) for _ in range(self.num_experts))

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return x[-1] if isinstance(x, (tuple, list)) else x

    @torch.no_grad()
    def key_features(self, k: int, x_k: torch.Tensor) -> torch.Tensor:
        """EMA-update expert ``k``'s key network (before the optimiser step), then its unit keys of ``x_k``."""
        self.key_encoders[k].update_parameters(nn.Sequential(self.backbones[k], self.necks[k]))
        shuffle = self.shuffle_bn and rank_and_world_size()[1] > 1
        if shuffle:
            x_k, idx_unshuffle = batch_shuffle_ddp(x_k)
        key = F.normalize(self.key_projections[k](self._features(self.key_encoders[k](x_k))), dim=1)
        return batch_unshuffle_ddp(key, idx_unshuffle) if shuffle else key

    def loss(self, inputs, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError('NCLMoCoClassifier: training needs two views (a MultiView pipeline with num_views=[1, 1]:'
                             ' the classification view, then the key view)')
        if 'gt_score' in data_samples[0]:
            raise ValueError('NCLMoCoClassifier: NCLLoss takes hard labels; remove mixup / cutmix batch augments')
        x_q, x_k = inputs
        label = torch.cat([sample.gt_label for sample in data_samples])
        feats = self.extract_feat(x_q)
        logits = torch.stack([fc(feats[:, k]) for k, fc in enumerate(self.classifiers)], dim=1)
        losses = {'loss': self.loss_module(logits, label, avg_factor=logits.size(0))}
        con = []
        for k in range(self.num_experts):
            q = F.normalize(self.projections[k](feats[:, k]), dim=1)
            key = self.key_features(k, x_k)
            con.append(moco_infonce(q, key, self.queues[k].feats.clone().detach(), self.temperature))
            self.queues[k].enqueue(key, label)
        losses['loss_moco'] = self.con_ratio * torch.stack(con).sum()
        return losses

    def predict(self, inputs, data_samples=None):
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        return super().predict(inputs, data_samples)
