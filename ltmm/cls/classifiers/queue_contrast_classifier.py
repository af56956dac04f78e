"""The momentum-encoder + labelled-queue classifier of the supervised MoCo-style methods (PaCo, KCL, TSC, SBCL on
ImageNet): MoCo's mechanics (He et al., "Momentum Contrast for Unsupervised Visual Representation Learning", CVPR
2020; facebookresearch/moco@64444f4a ``moco/builder.py``, CC-BY-NC, re-implemented from its description, nothing
copied) with labels in the queue, a pluggable contrastive loss and an optional online classifier.

One training step (``loss()``), on the two views of the two-view dataset bases
(``configs/_base_/datasets/*_two_view.py``: view 0 is the query, view 1 the key):

1. ``h = pool(backbone(x_q))``, ``q = normalize(neck(h))``; ``cls_score = head(h)`` when there is a head;
2. under ``no_grad``: the momentum update of the key encoder (backbone + pool + neck) **first**
   ``theta_k <- m theta_k + (1 - m) theta_q`` (the first update copies the query encoder, as MoCo's construction),
   then shuffle-BN over the ranks (mmpretrain's ``batch_shuffle_ddp`` / ``batch_unshuffle_ddp``; skipped on one
   rank, where a permutation changes nothing the key encoder computes) and ``k = normalize(neck_k(h_k))``;
3. ``contrast_loss(query=q, key=k, queue_feats=..., queue_labels=..., labels=y, cls_score=..., pooled=h)``, a dict
   of losses (the queue is passed as detached copies, so the enqueue cannot change what backward reads);
4. enqueue the keys and labels of every rank (:class:`~ltmm.cls.classifiers.LabelledQueue`).

Key encoder: mmengine's ``ExponentialMovingAverage`` (mmengine 0.10.7 convention
``avg <- (1 - momentum) avg + momentum src``, so ltmm passes ``momentum = 1 - m`` and takes ``m`` in MoCo's
convention, 0.999 by default as MoCo and every method here). Its BatchNorm running statistics are **its own**
(updated by its own train-mode forwards, as MoCo's ``encoder_k``): mmengine's EMA would otherwise copy the query's
buffers into it on every update (``update_buffers=False``). The key forward runs in train mode on batch statistics,
so this matters only where the key encoder is used in eval mode (SBCL clusters with it).

Without a key encoder (``momentum=None``, GPaCo): the key view goes through the query encoder itself, with gradient
and no shuffle-BN (two forward calls, so BatchNorm normalises each view with its own batch statistics, as GPaCo's
``encoder_q(im_q)``, ``encoder_q(im_k)``), and the head's logits of both views are handed to the loss:
``cls_score = [head(h_q); head(h_k)]`` ``(2B, C)``, ``pooled = [h_q; h_k]``. The queue is unchanged.

DDP: the key encoder's parameters have ``requires_grad=False``; every query parameter is used in each step, so the
default ``find_unused_parameters=False`` works unless a head is given but not used by the loss.
"""
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from ...core.distributed import rank_and_world_size
from ...core.registry import register_into
from .contrast_classifier import ContrastClassifier, last, sample_field
from .labelled_queue import LabelledQueue

NUM_VIEWS = 2  # view 0: query, view 1: key


def shuffle_bn_keys(encode: Callable[[torch.Tensor], torch.Tensor], x_k: torch.Tensor,
                    shuffle_bn: bool = True) -> torch.Tensor:
    """``encode(x_k)`` with MoCo's shuffle-BN: under DDP the key batch is shuffled across the ranks before the key
    encoder (so its BatchNorm sees another rank's images) and the keys unshuffled after it (mmpretrain's
    ``batch_shuffle_ddp`` / ``batch_unshuffle_ddp``); on one process, or with ``shuffle_bn`` False, plain
    ``encode(x_k)``."""
    shuffle = shuffle_bn and rank_and_world_size()[1] > 1
    if shuffle:
        x_k, idx_unshuffle = batch_shuffle_ddp(x_k)
    keys = encode(x_k)
    return batch_unshuffle_ddp(keys, idx_unshuffle) if shuffle else keys


class MomentumEncoder(ExponentialMovingAverage):
    """mmengine's ``ExponentialMovingAverage`` of the parameters only, keeping the averaged model's own buffers
    (MoCo's key encoder; see the module docstring). ``momentum`` is mmengine's (``1 - m``)."""

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        src = dict(model.named_parameters())
        for name, avg in self.avg_parameters.items():
            if self.steps == 0:
                avg.copy_(src[name])
            elif self.steps % self.interval == 0 and avg.dtype.is_floating_point:
                self.avg_func(avg, src[name].to(avg.device), self.steps)
        self.steps += 1


@register_into('MODELS', scopes=('mmpretrain',))
class QueueContrastClassifier(ContrastClassifier):
    """Backbone + pooling + projection neck, a momentum key encoder, a labelled queue, a contrastive loss and an
    optional online classifier head (module docstring).

    Training inputs: the list of two ``(N, C, H, W)`` views ``[x_q, x_k]`` and data samples with ``gt_label`` (a
    two-view dataset base with ``default_collate``). Test inputs: one ``(N, C, H, W)`` tensor.

    Args:
        backbone: the encoder's backbone config (its output: a tuple of feature maps).
        neck: the projection head config, applied to the pooled feature tuple ``(h,)`` (e.g. mmpretrain's
            ``MoCoV2Neck`` with ``with_avg_pool=False``: MoCo v2's MLP without BN; ``NonLinearNeck`` for an MLP with
            BN; ``LinearNeck`` with ``norm_cfg=None`` for KCL's single linear layer).
        contrast_loss: the loss config; called as ``contrast_loss(query=q, key=k, queue_feats=(K, d),
            queue_labels=(K,), labels=(B,), cls_score=(B, C) or None, pooled=(B, D))`` (plus
            ``queue_extra_ids=(K, E), extra_ids=(B, E)`` when ``extra_id_fields`` is not empty), returning a dict of
            losses.
        queue_size: ``K``, a multiple of the global batch.
        feat_dim: ``d``, the neck's output width (the queue's key width).
        head: the online classifier on the pooled feature (an mmpretrain ``ClsHead``), or None. Its logits give
            ``predict()``; how it trains is ``online_probe``'s.
        online_probe: False (default): the head's logits go to the contrastive loss as ``cls_score`` (PaCo's
            centres), which trains them. True: the head is a monitor of the two-stage methods (KCL, TSC), trained
            with its own loss (``loss_online_probe``) on the **detached** pooled feature, so it does not change the
            representation, and ``cls_score`` is None; it lets stage 1 validate. Needs a head.
        pool: the pooling neck from the backbone's maps to ``h``. Default ``GlobalAveragePooling``.
        momentum: ``m`` of the key encoder, MoCo's convention. Default 0.999 (MoCo ``--moco-m``, BalFeat, TSC, PaCo).
            None: no key encoder, keys from the query encoder with gradient (GPaCo; module docstring).
        shuffle_bn: shuffle the key batch across ranks (MoCo's shuffle-BN). Default True (every official run).
        extra_id_fields: data-sample fields holding one integer id per sample (e.g. ``sample_idx``) stored in the
            queue beside the label. A contrast loss with a method ``queue_ids(ids (B, E)) -> (B, E)`` maps them first
            (SBCL: dataset indices to the subclass ids of the current clustering, so the queue keeps the ids of the
            clustering a key was enqueued under, as the official). Default none.
        data_preprocessor: its config or module; default type mmpretrain's ``SelfSupDataPreprocessor`` (it
            normalises lists of views).
        init_cfg: mmengine's.
    """

    def __init__(self, backbone: dict, neck: dict, contrast_loss: dict, queue_size: int, feat_dim: int,
                 head: Optional[dict] = None, online_probe: bool = False, pool: Optional[dict] = None,
                 momentum: Optional[float] = 0.999, shuffle_bn: bool = True, extra_id_fields: Sequence[str] = (),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None, init_cfg: Optional[dict] = None) -> None:
        if momentum is not None and not 0.0 < momentum < 1.0:
            raise ValueError(f'QueueContrastClassifier: momentum m (MoCo convention) must be in (0, 1), got '
                             f'{momentum!r}')
        if online_probe and head is None:
            raise ValueError('QueueContrastClassifier: online_probe=True needs a head')
        super().__init__(backbone, neck, contrast_loss, head=head, pool=pool, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.online_probe = bool(online_probe)
        self.momentum = None if momentum is None else float(momentum)
        self.momentum_encoder = (None if momentum is None else
                                 MomentumEncoder(self._query_encoder(), momentum=1.0 - self.momentum))
        self.extra_id_fields = tuple(extra_id_fields)
        self.queue = LabelledQueue(queue_size, feat_dim, num_extra_ids=len(self.extra_id_fields))
        self.shuffle_bn = bool(shuffle_bn)

    def _query_encoder(self) -> nn.Sequential:
        return nn.Sequential(self.backbone, self.pool, self.neck)

    @torch.no_grad()
    def key_features(self, x_k: torch.Tensor, update: bool = True) -> torch.Tensor:
        """Momentum-update the key encoder (unless ``update`` is False), then the unit keys of ``x_k`` (shuffle-BN
        across ranks)."""
        if update:
            self.momentum_encoder.update_parameters(self._query_encoder())
        return shuffle_bn_keys(lambda x: F.normalize(last(self.momentum_encoder(x)), dim=1), x_k, self.shuffle_bn)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """The contrastive loss of one batch of view pairs (module docstring)."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != NUM_VIEWS:
            got = f'a list of {len(inputs)} views' if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f'QueueContrastClassifier trains on [x_query, x_key] (a two-view dataset base, '
                             f'default_collate), got {got}')
        x_q, x_k = inputs
        labels = sample_field(data_samples, 'gt_label', 'QueueContrastClassifier').to(x_q.device)
        pooled = self.extract_feat(x_q)
        q = F.normalize(last(self.neck(pooled)), dim=1)
        cls_score = self.head(pooled) if self.head is not None and not self.online_probe else None
        pooled_for_loss = last(pooled)
        if self.momentum_encoder is None:  # GPaCo: the query encoder, with gradient, both views' logits
            pooled_k = self.extract_feat(x_k)
            k = F.normalize(last(self.neck(pooled_k)), dim=1)
            if cls_score is not None:
                cls_score = torch.cat([cls_score, self.head(pooled_k)])
            pooled_for_loss = torch.cat([pooled_for_loss, last(pooled_k)])
        else:
            k = self.key_features(x_k)
        extra = self._extra_ids(data_samples, x_q.device)
        kwargs = {}
        if extra:
            kwargs = dict(extra_ids=torch.stack(extra, dim=1), queue_extra_ids=self.queue.extra_ids.clone())
        losses = self.contrast_loss(query=q, key=k, queue_feats=self.queue.feats.clone(),
                                    queue_labels=self.queue.labels.clone(), labels=labels, cls_score=cls_score,
                                    pooled=pooled_for_loss, **kwargs)
        if not isinstance(losses, dict):
            raise TypeError(f'QueueContrastClassifier: contrast_loss must return a dict of losses, got '
                            f'{type(losses).__name__}')
        self.queue.enqueue(k, labels, *extra)
        if self.online_probe:
            probe = self.head.loss(tuple(p.detach() for p in pooled), data_samples)
            losses.update({f'{name}_online_probe': value for name, value in probe.items()})
        return losses

    def _extra_ids(self, data_samples: List[DataSample], device: torch.device) -> List[torch.Tensor]:
        """The ``E`` id columns of the batch, mapped by the loss's ``queue_ids`` when it has one."""
        extra = [sample_field(data_samples, name, 'QueueContrastClassifier').to(device)
                 for name in self.extra_id_fields]
        if extra and hasattr(self.contrast_loss, 'queue_ids'):  # e.g. SBCL: dataset indices -> current subclass ids
            extra = list(self.contrast_loss.queue_ids(torch.stack(extra, dim=1)).unbind(dim=1))
        return extra

    @torch.no_grad()
    def prefill_queue(self, inputs: List[torch.Tensor], data_samples: List[DataSample]) -> None:
        """Enqueue the keys of one batch's key view without a loss, a gradient or a momentum update (KCL's
        ``init_key_queue``, :class:`~ltmm.cls.hooks.QueuePrefillHook`). The key encoder is first set to the query
        encoder if it has not been updated yet (MoCo's construction copies it)."""
        if self.momentum_encoder is None:
            raise RuntimeError('QueueContrastClassifier.prefill_queue needs a momentum key encoder (momentum=None '
                               'keeps no keys of its own)')
        if not isinstance(inputs, (list, tuple)) or len(inputs) != NUM_VIEWS:
            raise ValueError('QueueContrastClassifier.prefill_queue takes [x_query, x_key]')
        if self.momentum_encoder.steps == 0:
            self.momentum_encoder.update_parameters(self._query_encoder())
        x_k = inputs[1]
        labels = sample_field(data_samples, 'gt_label', 'QueueContrastClassifier').to(x_k.device)
        self.queue.enqueue(self.key_features(x_k, update=False), labels, *self._extra_ids(data_samples, x_k.device))
