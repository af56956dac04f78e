"""SBCL: subclass-balancing contrastive learning (Hou et al., "Subclass-balancing Contrastive Learning for Long-tailed
Recognition", ICCV 2023): the CIFAR (in-batch, SimCLR-style) path of the official ``JackHck/SBCL@3b9047a3``
(``SimCLR/loss.py: SupConLoss_rank``, ``SimCLR/main.py``) and, at the end of this docstring, its ImageNet-LT (MoCo
queue) path; re-derived from ``shared/research/contrastive.md`` §5.1-5.2 and the official code, nothing copied.

Head classes are split into subclasses by k-means of their features (:mod:`ltmm.cls.hooks.sbcl_cluster_hook`, every
``N`` epochs); the loss over the ``2B`` views ``z`` (anchors = all views) is::

    L = mean_i [ -(T_sub / base_T) m_i^sub - gamma m_i^cls ]

* subclass term ``m^sub``: SupCon at ``T_sub`` with positives = same subclass but not the anchor itself, the
  denominator over every other view (:func:`~ltmm.cls.losses.supcon_loss.supcon_loss` over subclass labels);
* class term ``m^cls``: the row of anchor ``i`` at its class temperature ``tau_{y_i}``; positives = the views of the
  same class in another subclass plus the anchor's own other view(s); the denominator = every column not in the
  anchor's subclass plus its own other view(s).

Before the first clustering (the official epochs 0-9) the loss is plain SupCon at ``temperature`` with factor 1
(``SupConLoss(temperature=0.1, base_temperature=0.1)`` in ``SimCLR/main.py``).

The class temperatures (recomputed by the hook at each clustering, :func:`class_temperatures`):
``d_c = mean_i ||f_i - mu_c||_2 / log(n_c + 10)``, clipped to the [20th, 80th] percentiles over classes,
``tau_c = temperature * d_c / mean(d)``; classes with one subclass get ``tau_c = temperature``.

The ImageNet-LT path (official ``moco/loss.py: SupConLoss_rank``, ``moco/main.py``, ``moco/moco.py``; §5.2),
:func:`sbcl_queue_loss` / :class:`SBCLQueueLoss`: MoCo's logits ``l_i = [q_i . k_i, q_i . u_1, ..., q_i . u_K]``
against the momentum queue, whose slots carry a class label and the subclass id the key had when it was enqueued::

    subclass term  L_sub = -mean_i mean_{j in P_i} log softmax(l_i / T)_j,     P_i = {own key} + {u_j: s_j = s_i}
    class term     L_cls = -mean_i mean_{j in Q_i} [l_ij / T_c - log sum_{n in D_i} exp(l_in / T_c)]
                   Q_i = {own key} + {u_j: y_j = y_i, s_j != s_i},   D_i = {own key} + {u_j: s_j != s_i}
    L = L_sub + gamma L_cls,   T 0.07, T_c 0.12, gamma 0.2 (fixed temperatures, no density term, no T / base_T)
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn

from ...core.registry import register_into
from .kcl_loss import _check_shapes, moco_logits
from .supcon_loss import supcon_loss


def sbcl_loss(features: torch.Tensor, labels: torch.Tensor, sub_labels: torch.Tensor, class_tau: torch.Tensor,
              sub_temperature: float = 0.1, base_temperature: float = 0.07, gamma: float = 0.25) -> torch.Tensor:
    """SBCL's in-batch loss (module docstring), a scalar.

    Args:
        features: ``(B, V, d)`` L2-normalised projections of ``V >= 1`` views of ``B`` images.
        labels: ``(B,)`` class ids.
        sub_labels: ``(B,)`` global subclass ids (unique over classes).
        class_tau: ``(C,)`` class-term temperatures, indexed by ``labels``.
        sub_temperature: the subclass-term temperature ``T_sub``. Default 0.1 (``SupConLoss_rank``'s constructor
            default; the official CLI ``--temperature`` does not reach it, §5.3 item 4).
        base_temperature: ``base_T`` of the subclass term's factor ``T_sub / base_T``. Default 0.07 (same source).
        gamma: the class-term weight. Default 0.25 (``SupConLoss_rank``'s default).
    """
    if features.dim() != 3:
        raise ValueError(f'sbcl_loss: features must be (B, V, d), got shape {tuple(features.shape)}')
    batch, views = features.shape[:2]
    for name, value in (('labels', labels), ('sub_labels', sub_labels)):
        if value.shape != (batch, ):
            raise ValueError(f'sbcl_loss: {name} of shape {tuple(value.shape)} does not match the batch of {batch}')
    if labels.min() < 0 or labels.max() >= class_tau.numel():
        raise ValueError(f'sbcl_loss: labels in [{int(labels.min())}, {int(labels.max())}] outside the '
                         f'{class_tau.numel()} class temperatures')
    z = torch.cat(features.unbind(dim=1)).float()  # (V*B, d), view-major as SupContrast
    y = labels.repeat(views)
    s = sub_labels.repeat(views)
    idx = torch.arange(batch, device=z.device).repeat(views)
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    same_sub = s[:, None] == s[None, :]
    same_cls = y[:, None] == y[None, :]
    own_other = (idx[:, None] == idx[None, :]) & ~eye
    sim = z @ z.t()
    sub_term = supcon_loss(sim / sub_temperature, (same_sub & ~eye).float(), (~eye).float(),
                           scale=sub_temperature / base_temperature)
    tau = class_tau.to(z)[y]
    cls_pos = (same_cls & ~same_sub) | own_other
    cls_denom = ~same_sub | own_other
    cls_term = supcon_loss(sim / tau[:, None], cls_pos.float(), cls_denom.float(), scale=gamma)
    return sub_term + cls_term


def sbcl_queue_loss(query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                    queue_sub: torch.Tensor, labels: torch.Tensor, sub_labels: torch.Tensor,
                    temperature: float = 0.07, class_temperature: float = 0.12, gamma: float = 0.2) -> torch.Tensor:
    """SBCL's queue loss (module docstring, ImageNet-LT path), a scalar.

    Args:
        query, key: ``(B, d)`` unit queries and their momentum keys.
        queue_feats: ``(K, d)`` unit queue keys; ``queue_labels``, ``queue_sub``: ``(K,)`` their class labels and
            subclass ids (-1 for a slot not yet written, or written before the first clustering: never a positive).
        labels, sub_labels: ``(B,)`` the anchors' class labels and current subclass ids (``>= 0``).
        temperature: ``T`` of the subclass term. Default 0.07 (``SupConLoss_rank(K, temperature=args.moco_t)``,
            ``--moco-t`` 0.07 in ``moco/main.py``).
        class_temperature: ``T_c`` of the class term. Default 0.12 (``SupConLoss_rank``'s
            ``ranking_temperature``).
        gamma: the class-term weight. Default 0.2 (``SupConLoss_rank``'s ``grama``).
    """
    _check_shapes('sbcl_queue_loss', query, key, queue_feats, queue_labels, labels)
    if queue_sub.shape != queue_labels.reshape(-1).shape or sub_labels.shape != labels.reshape(-1).shape:
        raise ValueError(f'sbcl_queue_loss: subclass ids of shape {tuple(queue_sub.shape)} / '
                         f'{tuple(sub_labels.shape)} for {queue_labels.numel()} queue slots / {labels.numel()} anchors')
    if sub_labels.numel() and sub_labels.min() < 0:
        raise ValueError('sbcl_queue_loss: the anchors need subclass ids >= 0 (a clustering)')
    logits = moco_logits(query.float(), key.float(), queue_feats.float())
    own = torch.ones_like(logits[:, :1], dtype=torch.bool)
    same_sub = torch.cat([own, sub_labels.reshape(-1, 1) == queue_sub.reshape(1, -1)], dim=1)
    same_cls = torch.cat([own, labels.reshape(-1, 1) == queue_labels.reshape(1, -1)], dim=1)
    other_sub = ~same_sub
    other_sub[:, 0] = True
    sub_term = supcon_loss(logits / temperature, same_sub.float())
    cls_term = supcon_loss(logits / class_temperature, (same_cls & other_sub).float(), other_sub.float(), scale=gamma)
    return sub_term + cls_term


def subclass_counts(class_counts: np.ndarray, cluster_size: int = 10, min_count: Optional[int] = None) -> np.ndarray:
    """The official number of subclasses per class: ``k_c = max(1, n_c // max(n_min, cluster_size))``.

    Args:
        class_counts: ``(C,)`` training images per class (all > 0).
        cluster_size: the official ``--cluster`` (10 on CIFAR, 20 on ImageNet-LT).
        min_count: ``n_min``; default None: the smallest count.
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    if counts.ndim != 1 or (counts <= 0).any():
        raise ValueError(f'subclass_counts: class_counts must be positive per class, got {counts.tolist()}')
    if cluster_size < 1:
        raise ValueError(f'subclass_counts: cluster_size must be >= 1, got {cluster_size}')
    floor = max(int(counts.min()) if min_count is None else int(min_count), int(cluster_size))
    return np.maximum(1, counts // floor)


def class_temperatures(features: torch.Tensor, labels: torch.Tensor, num_sub: np.ndarray,
                       temperature: float = 0.1) -> torch.Tensor:
    """The official class-density temperatures (module docstring) of normalised features ``(N, d)``, ``(C,)``."""
    num_classes = len(num_sub)
    dens = np.zeros(num_classes)
    counts = np.zeros(num_classes)
    for c in range(num_classes):
        f = features[labels == c].double()
        if len(f) == 0:
            raise ValueError(f'class_temperatures: class {c} has no feature')
        counts[c] = len(f)
        dens[c] = (f - f.mean(0)).norm(dim=1).mean().item() / np.log(len(f) + 10)
    dens = np.clip(dens, np.percentile(dens, 20), np.percentile(dens, 80))
    tau = temperature * dens / dens.mean()
    tau[np.asarray(num_sub) == 1] = temperature
    return torch.as_tensor(tau, dtype=torch.float32)


@register_into('MODELS', scopes=('mmpretrain',))
class SBCLLoss(nn.Module):
    """SBCL's contrastive loss with its clustering state (module docstring).

    State (buffers, so in the checkpoint and restored on ``--resume``): ``sub_labels`` the subclass id of every
    training sample by dataset index (empty until the first clustering by
    :class:`~ltmm.cls.hooks.SBCLClusterHook`), ``class_tau`` the class temperatures.

    Called by :class:`~ltmm.cls.classifiers.MultiViewContrastClassifier` as ``forward(features, labels,
    sample_idx)`` (``sample_idx`` the dataset indices of the batch, from the data samples).

    Args:
        num_classes: ``C``.
        temperature: the plain-SupCon temperature before the first clustering and the base of the class
            temperatures. Default 0.1 (official ``--temperature``).
        sub_temperature, base_temperature, gamma: :func:`sbcl_loss`'s (defaults 0.1, 0.07, 0.25).

    Deviation: SupContrast-era code divides by zero for an anchor without positives (NaN); here such an anchor
    contributes 0 (:func:`supcon_loss`). With two views every anchor has a class-term positive, so this only
    matters for the subclass term of a one-view batch.
    """

    def __init__(self, num_classes: int, temperature: float = 0.1, sub_temperature: float = 0.1,
                 base_temperature: float = 0.07, gamma: float = 0.25) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'SBCLLoss: num_classes must be >= 1, got {num_classes}')
        self.num_classes = num_classes
        self.temperature = temperature
        self.sub_temperature = sub_temperature
        self.base_temperature = base_temperature
        self.gamma = gamma
        self.register_buffer('sub_labels', torch.zeros(0, dtype=torch.long))
        self.register_buffer('class_tau', torch.full((num_classes, ), float(temperature)))

    def set_clusters(self, sub_labels: torch.Tensor, class_tau: torch.Tensor) -> None:
        """Installs a clustering (the hook's): subclass ids by dataset index and the class temperatures."""
        if class_tau.shape != (self.num_classes, ):
            raise ValueError(f'SBCLLoss: class_tau of shape {tuple(class_tau.shape)} for {self.num_classes} classes')
        self.sub_labels = sub_labels.to(self.class_tau.device, torch.long).clone()
        self.class_tau.copy_(class_tau)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        key = prefix + 'sub_labels'
        if key in state_dict:  # the clustering's size is the dataset's, unknown at construction
            self.sub_labels = torch.zeros_like(state_dict[key], device=self.class_tau.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, features: torch.Tensor, labels: torch.Tensor,
                sample_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The loss of ``(B, V, d)`` normalised views (plain SupCon before the first clustering)."""
        if self.sub_labels.numel() == 0:
            return sbcl_loss(features, labels, labels, self.class_tau, self.temperature, self.temperature, 0.0)
        if sample_idx is None:
            raise ValueError('SBCLLoss: sample_idx (the dataset indices of the batch) is needed after clustering')
        if sample_idx.max() >= self.sub_labels.numel():
            raise ValueError(f'SBCLLoss: sample index {int(sample_idx.max())} outside the clustering of '
                             f'{self.sub_labels.numel()} samples')
        sub = self.sub_labels[sample_idx.to(self.sub_labels.device)].to(labels.device)
        return sbcl_loss(features, labels, sub, self.class_tau, self.sub_temperature, self.base_temperature,
                         self.gamma)


@register_into('MODELS', scopes=('mmpretrain',))
class SBCLQueueLoss(SBCLLoss):
    """SBCL's ImageNet-LT loss on the momentum queue (:func:`sbcl_queue_loss`), the ``contrast_loss`` of a
    :class:`~ltmm.cls.classifiers.QueueContrastClassifier` built with ``extra_id_fields=('sample_idx', )``: its
    :meth:`queue_ids` turns the batch's dataset indices into the subclass ids of the current clustering, which the
    classifier hands to :meth:`forward` and enqueues beside the keys. A queue slot keeps the id it was enqueued with,
    so after a re-clustering the queue holds stale ids until overwritten (``K / B`` steps), as the official
    ``queue_l`` (research note §5.3 item 3).

    The clustering state is :class:`SBCLLoss`'s (buffers ``sub_labels``, ``class_tau``; set by
    :class:`~ltmm.cls.hooks.SBCLClusterHook`, which must cluster before the first step: ``start_epoch=0``).
    ``class_tau`` is kept but unused: the official queue loss has fixed temperatures.

    Args:
        num_classes: ``C``.
        temperature, class_temperature, gamma: :func:`sbcl_queue_loss`'s (defaults 0.07, 0.12, 0.2).
    """

    def __init__(self, num_classes: int, temperature: float = 0.07, class_temperature: float = 0.12,
                 gamma: float = 0.2) -> None:
        if not (temperature > 0 and class_temperature > 0):
            raise ValueError(f'SBCLQueueLoss: temperatures must be > 0, got {temperature!r}, {class_temperature!r}')
        super().__init__(num_classes, temperature=temperature, gamma=gamma)
        self.class_temperature = float(class_temperature)

    def queue_ids(self, sample_idx: torch.Tensor) -> torch.Tensor:
        """The ``(B, 1)`` subclass ids of the dataset indices ``(B, 1)`` under the current clustering."""
        if self.sub_labels.numel() == 0:
            raise RuntimeError('SBCLQueueLoss: no clustering yet; SBCLClusterHook(start_epoch=0) clusters before '
                               'the first step')
        if sample_idx.shape[1:] != (1, ):
            raise ValueError(f'SBCLQueueLoss: one id column (sample_idx) expected, got shape {tuple(sample_idx.shape)}')
        if sample_idx.min() < 0 or sample_idx.max() >= self.sub_labels.numel():
            raise ValueError(f'SBCLQueueLoss: sample index {int(sample_idx.max())} outside the clustering of '
                             f'{self.sub_labels.numel()} samples')
        return self.sub_labels[sample_idx.to(self.sub_labels.device)].to(sample_idx.device)

    def forward(self, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                labels: torch.Tensor, extra_ids: Optional[torch.Tensor] = None,
                queue_extra_ids: Optional[torch.Tensor] = None, **unused) -> Dict[str, torch.Tensor]:
        """``{'loss_sbcl': L}``; ``extra_ids`` ``(B, 1)`` / ``queue_extra_ids`` ``(K, 1)`` are the subclass ids of
        the anchors and the queue (the classifier's, after :meth:`queue_ids`)."""
        if extra_ids is None or queue_extra_ids is None:
            raise ValueError("SBCLQueueLoss: subclass ids missing; build the classifier with "
                             "extra_id_fields=('sample_idx', )")
        return dict(loss_sbcl=sbcl_queue_loss(query, key, queue_feats, queue_labels, queue_extra_ids[:, 0],
                                              labels, extra_ids[:, 0], self.temperature, self.class_temperature,
                                              self.gamma))
