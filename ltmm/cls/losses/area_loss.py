"""AREA: cross-entropy re-weighted by the inverse "effective area" of each class, recomputed from the features at the
start of every epoch of the deferred phase (Chen et al., "AREA: Adaptive Reweighting via Effective Area for
Long-Tailed Classification", ICCV 2023).

Official code (CIFAR only): xiaohua-chen/AREA@1c471974 ``AREA_cifar.py``: ``get_feature_mean`` (lines 300-318),
``calculate_eff_weight`` (lines 322-368), the schedule in ``main_worker`` (lines 211-225) and the weighted loss in
``train`` (lines 259-263). Re-implemented from its maths; nothing is copied.

The pieces: :func:`feature_class_means` (pass 1), :func:`centred_unit_sums` + :func:`batch_effective_areas` (pass 2,
one batch), :func:`area_weights` (Eq. 14), the loss :class:`AREALoss` (the weights and the schedule, in buffers) and
the hook :class:`AREAHook` (the two passes over the training set before each epoch of the deferred phase).
"""
import time
from functools import partial
from typing import Iterable, Iterator, Optional, Tuple

import torch
from mmengine import dist
from mmengine.dataset import DefaultSampler, worker_init_fn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy

FeatureBatches = Iterable[Tuple[torch.Tensor, torch.Tensor]]  # (features (N, D), labels (N,)) per batch


def _check_batch(feats: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    if feats.dim() != 2 or labels.dim() != 1 or feats.size(0) != labels.size(0):
        raise ValueError(f'AREA statistics need features (N, D) and labels (N,), got {tuple(feats.shape)} and '
                         f'{tuple(labels.shape)}')
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'AREA statistics: labels must lie in [0, {num_classes}), got {labels.min().item()} .. '
                         f'{labels.max().item()}')


def feature_class_means(batches: FeatureBatches, num_classes: int) -> torch.Tensor:
    """Pass 1: the mean feature of every class over one pass, ``mu_c = sum_{i in c} h_i / n_c``, shape (C, D), float32.

    Under DDP every rank passes its shard; the per-class sums and counts are all-reduced (SUM) once, at the end, so
    every rank gets the means over the whole set. A class without a sample gets a zero mean (the official divides by
    the class count of the training list, which equals the number of samples seen on one GPU).

    Args:
        batches: ``(features (N, D), labels (N,))`` per batch.
        num_classes: ``C``.
    """
    totals: Optional[torch.Tensor] = None  # (C, D + 1): feature sums, then the count
    for feats, labels in batches:
        _check_batch(feats, labels, num_classes)
        feats = feats.detach().float()
        if totals is None:
            totals = feats.new_zeros(num_classes, feats.size(1) + 1)
        totals[:, :-1].index_add_(0, labels, feats)
        totals[:, -1] += torch.bincount(labels, minlength=num_classes).to(totals)
    if totals is None:
        raise ValueError('AREA statistics: the pass over the training set gave no batch')
    dist.all_reduce(totals, op='sum')
    return totals[:, :-1] / totals[:, -1:].clamp_min(1)


def centred_unit_sums(feats: torch.Tensor, labels: torch.Tensor, class_mean: torch.Tensor) -> torch.Tensor:
    """Per class of one batch, the sum of the unit centred features and the count: ``(C, D + 1)`` with row c
    ``(sum_{i in c} u_i / |u_i|, n_c)``, ``u_i = h_i - mu_{y_i}``; a zero ``u_i`` adds zeros (the official replaces a
    zero norm product by 1, so its cosines are 0).

    Args:
        feats: ``(N, D)`` features.
        labels: ``(N,)`` class indices.
        class_mean: ``(C, D)`` class means of pass 1.
    """
    num_classes = class_mean.size(0)
    _check_batch(feats, labels, num_classes)
    u = feats.detach().float() - class_mean[labels]
    norm = u.norm(dim=1, keepdim=True)
    unit = u / torch.where(norm > 0, norm, torch.ones_like(norm))  # a zero u stays zero
    sums = u.new_zeros(num_classes, u.size(1) + 1)
    sums[:, :-1].index_add_(0, labels, unit)
    sums[:, -1] = torch.bincount(labels, minlength=num_classes).to(sums)
    return sums


def batch_effective_areas(unit_sums: torch.Tensor) -> torch.Tensor:
    """The effective area of every class in one batch, shape (C,), from :func:`centred_unit_sums`.

    For a class with ``n >= 2`` samples in the batch, ``R_ij = cos(u_i, u_j)`` (diagonal included) and
    ``rho = a^T R a`` with ``a = 1 / n`` (official lines 346-354), which equals ``|sum_i u_i / |u_i||^2 / n^2``; the
    area is ``E = 1 / rho``: 1 when the centred features are aligned, ``n`` when they are orthogonal, infinite when
    they are all zero. A single sample gives ``E = 1`` (official line 344), an absent class 0.
    """
    counts = unit_sums[:, -1]
    squared = unit_sums[:, :-1].pow(2).sum(dim=1)
    area = counts.pow(2) / squared  # inf where every centred feature is zero
    area = torch.where(counts >= 2, area, (counts == 1).to(area))
    return area


def summed_effective_area(batches: FeatureBatches, class_mean: torch.Tensor) -> torch.Tensor:
    """Pass 2: ``E_c = sum_b E_{c,b}``, the effective areas of every batch summed over the pass (official
    ``eff_all``, lines 326-356), shape (C,), float32.

    Under DDP a batch is the global batch of one step, the union of the ranks' batches (the batch a DDP step trains
    on): the per-class sums of unit centred features and counts of :func:`centred_unit_sums` are all-reduced (SUM)
    at every step, ``C x (D + 1)`` floats, so every rank sums the same areas. The ranks must pass the same number of
    batches (``DefaultSampler`` pads the shards to equal lengths).

    Args:
        batches: ``(features (N, D), labels (N,))`` per batch.
        class_mean: ``(C, D)`` class means of pass 1.
    """
    total = class_mean.new_zeros(class_mean.size(0))
    for feats, labels in batches:
        sums = centred_unit_sums(feats, labels, class_mean)
        dist.all_reduce(sums, op='sum')
        total += batch_effective_areas(sums)
    return total


def area_weights(area: torch.Tensor) -> torch.Tensor:
    """Eq. 14: ``w_c = C * (1 / E_c) / sum_j (1 / E_j)``, shape (C,), float32; a class with ``E_c = 0`` (never seen)
    or ``E_c = inf`` gets weight 0 (official lines 360-364).

    Raises:
        ValueError: ``area`` is not 1-D, holds a negative or NaN value, or gives no positive finite area at all.
    """
    if area.dim() != 1 or area.numel() == 0:
        raise ValueError(f'effective areas must be a non-empty 1-D tensor, got shape {tuple(area.shape)}')
    area = area.float()
    if torch.isnan(area).any() or (area < 0).any():
        bad = torch.nonzero(torch.isnan(area) | (area < 0)).flatten().tolist()
        raise ValueError(f'effective areas must be >= 0, got {area[bad].tolist()} at class index {bad}')
    inverse = torch.where(area > 0, area.reciprocal(), torch.zeros_like(area))  # 1 / inf = 0
    if not inverse.sum() > 0:
        raise ValueError('effective areas: no class has a positive finite area, the weights are undefined')
    return inverse / inverse.sum() * area.numel()


@register_into('MODELS', scopes=('mmpretrain',))
class AREALoss(ClassificationLoss):
    """AREA: cross-entropy, plain before ``start_epoch``, then weighted by the inverse effective area of each class:

        L = sum_i w_{y_i} CE(z_i, y_i) / sum_i w_{y_i},   w_c = C (1 / E_c) / sum_j (1 / E_j)

    with ``E_c`` the effective area of class c (see :func:`batch_effective_areas`, :func:`area_weights`), recomputed
    from the model's features before every epoch of the re-weighted phase by :class:`AREAHook` (official
    ``main_worker``, lines 215-223: ``epoch < 160`` plain CE; then, before each epoch, the class means and the
    areas from two passes over the training set, the weights kept for the whole epoch). The mean divides by the sum
    of the batch's weights, as ``F.cross_entropy(weight=w)`` (official line 263): ``normalize='sum_weights'``.

    State (buffers, so checkpoints hold them and ``resume`` restores them):
        area_weight: ``(C,)`` the weights in force (all ones before ``start_epoch``).
        effective_area: ``(C,)`` the ``E_c`` they were computed from (zeros until the first computation).
        epoch: scalar int64, the epoch set by :class:`AREAHook` (-1 before any).
        area_epoch: scalar int64, the epoch whose weights are in force (-1: none yet).

    In training mode, a re-weighted epoch whose weights were not computed raises a RuntimeError, and so does an
    epoch never set: the loss needs :class:`AREAHook` in ``custom_hooks``.

    Deviations from the official code:
        - the class statistics use the feature the head classifies (``pre_logits``), of any dimension (the
          official hard-codes ResNet-32's 64); under DDP they are reduced across ranks (see the hook);
        - a batch whose samples all have weight 0 (only classes of infinite area) gives a zero loss, not NaN;
        - a class without training samples is allowed: its area is 0 and its weight 0, as the official rule gives
          (its pass-1 mean is 0 instead of the official 0 / 0);
        - soft labels (mixup) give ``-sum_k w_k y_k log softmax(z)_k`` over ``sum_i sum_k w_k y_ik``.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts (checked
            against ``num_classes``; the weights themselves come from the features, not from the counts).
        num_classes: ``C``, checked against ``class_stats`` when given.
        start_epoch: first (0-indexed) epoch of the re-weighted phase. Default 160 (official line 215, on a
            200-epoch run, with the lr drop); None never re-weights.
        loss_weight: multiplies the loss. Default 1.0.
        normalize: 'sum_weights' (default, official) or 'batch' (divide by the batch size).
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 start_epoch: Optional[int] = 160, loss_weight: float = 1.0, normalize: str = 'sum_weights',
                 reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, normalize=normalize,
                         allow_zero=True)
        if start_epoch is not None and (isinstance(start_epoch, bool) or not isinstance(start_epoch, int)
                                        or start_epoch < 0):
            raise ValueError(f'AREALoss: start_epoch must be None or a non-negative epoch, got {start_epoch!r}')
        self.start_epoch = start_epoch
        self.register_buffer('area_weight', torch.ones(self.num_classes))
        self.register_buffer('effective_area', torch.zeros(self.num_classes))
        self.register_buffer('epoch', torch.tensor(-1, dtype=torch.int64))
        self.register_buffer('area_epoch', torch.tensor(-1, dtype=torch.int64))

    @property
    def class_weight(self) -> torch.Tensor:
        """The weights in force (C,)."""
        return self.area_weight

    def reweighting(self, epoch: int) -> bool:
        """Whether ``epoch`` is in the re-weighted phase."""
        return self.start_epoch is not None and epoch >= self.start_epoch

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-indexed): before ``start_epoch`` the weights become all ones; from it on they wait for
        :meth:`set_effective_area`. The phase is logged when it changes."""
        if int(self.epoch) < 0 or self.reweighting(int(self.epoch)) != self.reweighting(epoch):
            print_log(f'AREA: epoch {epoch}: ' + ('weights from the effective areas, recomputed every epoch'
                                                  if self.reweighting(epoch) else
                                                  f'unweighted (re-weighting from epoch {self.start_epoch})'),
                      logger='current')
        self.epoch.fill_(epoch)
        if not self.reweighting(epoch):
            self.area_weight.fill_(1.0)

    def set_effective_area(self, area: torch.Tensor) -> None:
        """Weight the current epoch by ``area`` (C,), the summed effective areas (:func:`area_weights`)."""
        if area.shape != (self.num_classes, ):
            raise ValueError(f'AREALoss: effective areas of shape {tuple(area.shape)} for {self.num_classes} classes')
        weights = area_weights(area)
        self.effective_area.copy_(area)
        self.area_weight.copy_(weights)
        self.area_epoch.copy_(self.epoch)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if self.training:
            epoch = int(self.epoch)
            if epoch < 0:
                raise RuntimeError('AREALoss: no epoch was set; add dict(type="AREAHook") to custom_hooks')
            if self.reweighting(epoch) and int(self.area_epoch) != epoch:
                raise RuntimeError(f'AREALoss: epoch {epoch} is re-weighted but its effective areas were not '
                                   'computed; add dict(type="AREAHook") to custom_hooks')
        return soft_cross_entropy(logits, target, self.class_weight)

    def extra_repr(self) -> str:
        return f'start_epoch={self.start_epoch}'


@register_into('HOOKS', scopes=('mmpretrain',))
class AREAHook(Hook):
    """Before every training epoch, tell each :class:`AREALoss` of the model the epoch; in the re-weighted phase,
    first compute the effective areas of the current model and give them to the losses (official ``main_worker``
    lines 220-223, ``get_feature_mean`` and ``calculate_eff_weight``):

    1. pass 1 over the training set, model in eval mode, no gradient: the class means of the feature the head
       classifies (``extract_feat(stage='pre_logits')``, after ``data_preprocessor`` without batch augments);
    2. pass 2, a new shuffle (and new augmentations): in every batch, for every class, the effective area of its
       centred features; summed over the batches;
    3. the weights ``w_c ~ 1 / E_c`` (Eq. 14), used for the whole epoch.

    Each pass sees the training set once through the training pipeline (augmentations included) in a loader like
    the training one (same dataset, batch size per GPU, workers and collate; ``DefaultSampler``, shuffled, no
    ``drop_last``), as the official passes over its training loader. Pass p (1, 2) of epoch e is shuffled and its
    workers seeded with ``runner.seed + max_epochs + 2 e + p - 1``: an order and augmentations unlike every training
    epoch's and each other's, the same again when a run is resumed. With ``num_workers = 0`` the augmentations draw
    from the main process's random state.

    Distributed training: each rank passes its shard; the class means are all-reduced once, and the per-class sums
    behind each batch's areas at every step, so a batch is the global batch of a step (one GPU x B in the official
    runs) and every rank gets the same weights (broadcast from rank 0 besides). Cost: two inference passes over the
    training set per re-weighted epoch (about 2/3 of a training epoch).

    Epoch-based loops only. The weights are buffers of the loss: a resumed run recomputes them at its first epoch,
    as the official code does at every epoch.
    """
    priority = 'NORMAL'

    def before_train_epoch(self, runner: Runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        losses = [m for m in model.modules() if isinstance(m, AREALoss)]
        if not losses:
            raise RuntimeError('AREAHook found no AREALoss in the model')
        num_classes = {loss.num_classes for loss in losses}
        if len(num_classes) > 1:
            raise ValueError(f'AREAHook: the AREALoss modules disagree on num_classes: {sorted(num_classes)}')
        epoch = runner.epoch
        for loss in losses:
            loss.set_epoch(epoch)
        active = [loss for loss in losses if loss.reweighting(epoch)]
        if not active:
            return
        start = time.time()
        area = self.effective_area(runner, model, num_classes.pop(), epoch)
        for loss in active:
            loss.set_effective_area(area.to(loss.area_weight))
        weights = active[0].area_weight
        runner.logger.info(f'AREA: epoch {epoch}: effective areas {area.min().item():.4g} .. {area.max().item():.4g},'
                           f' weights {weights.min().item():.4g} .. {weights.max().item():.4g} '
                           f'({time.time() - start:.1f} s for the two passes)')

    @torch.no_grad()
    def effective_area(self, runner: Runner, model: torch.nn.Module, num_classes: int, epoch: int) -> torch.Tensor:
        """The summed effective areas ``E_c`` (C,) of the current model (steps 1 and 2), the same on every rank."""
        max_epochs = getattr(runner.train_loop, 'max_epochs', None)
        if max_epochs is None:
            raise RuntimeError('AREAHook needs an epoch-based training loop')
        was_training = model.training
        model.eval()
        try:
            seed = runner.seed + max_epochs + 2 * epoch
            class_mean = feature_class_means(self._features(model, self._loader(runner, seed)), num_classes)
            area = summed_effective_area(self._features(model, self._loader(runner, seed + 1)), class_mean)
        finally:
            model.train(was_training)
        dist.broadcast(area, src=0)
        return area

    @staticmethod
    def _loader(runner: Runner, seed: int) -> DataLoader:
        """A loader over the training set like the training loader, shuffled with ``seed`` (see the class doc)."""
        train = runner.train_dataloader
        init_fn = None if train.num_workers == 0 else partial(
            worker_init_fn, num_workers=train.num_workers, rank=dist.get_rank(), seed=seed)
        return DataLoader(train.dataset, batch_size=train.batch_size, sampler=DefaultSampler(train.dataset, seed=seed),
                          num_workers=train.num_workers, collate_fn=train.collate_fn, pin_memory=train.pin_memory,
                          worker_init_fn=init_fn)

    @staticmethod
    def _features(model: torch.nn.Module, loader: DataLoader) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        """``(pre_logits features (N, D), labels (N,))`` of every batch of ``loader``."""
        for data_batch in loader:
            data = model.data_preprocessor(data_batch, False)
            labels = [sample.gt_label for sample in data['data_samples']]
            if any(label.numel() != 1 for label in labels):
                raise ValueError('AREAHook needs single-label data (one gt_label per sample)')
            feats = model.extract_feat(data['inputs'], stage='pre_logits')
            yield feats, torch.cat(labels).to(feats.device).long()
