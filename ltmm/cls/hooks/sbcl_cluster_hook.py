"""SBCL's re-clustering (Hou et al., ICCV 2023; official ``JackHck/SBCL@3b9047a3`` ``SimCLR/main.py: cluster()``,
``kmeans_gpu.py``; re-derived from ``shared/research/contrastive.md`` §5.1): every ``interval`` epochs from
``start_epoch``, the normalised projections of view 0 of the training pipeline over the whole training set (model in
eval mode) are split per class into ``k_c = max(1, n_c // max(n_min, cluster_size))`` subclasses by cosine k-means,
and the class temperatures are recomputed; both go into the model's :class:`~ltmm.cls.losses.SBCLLoss` (its buffers,
so the clustering is in the checkpoint and a resumed run continues with it).

Deviations from the official code, with reasons:

* The clustering runs on rank 0 and is broadcast (the official runs unseeded k-means on every DDP rank, so ranks can
  disagree on the subclass ids, §5.3 item 1); the k-means initialisation is seeded (``seed + epoch``), so a run is
  reproducible.
* Samples are grouped by their labels, not by the dataset being sorted by class (§5.3 item 2).
* With a momentum encoder (:class:`~ltmm.cls.classifiers.QueueContrastClassifier`, the ImageNet-LT path) the
  features are the key encoder's, in eval mode with its own BatchNorm statistics, as the official ``encoder_k``; the
  official feature loader (batch 5 x the per-GPU batch, every rank walking the whole set) becomes one pass on rank 0.
* k-means stops when the squared shift of the centres summed over clusters falls under ``tol`` or after
  ``max_iter`` rounds (the official ``kmeans_gpu.py`` tolerance 1e-3, 35 rounds); an empty cluster is re-seeded with a
  random point of its class, as the official.
"""
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import broadcast, get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from ...core.registry import register_into
from ..losses.sbcl_loss import SBCLLoss, class_temperatures, subclass_counts


def cosine_kmeans(features: torch.Tensor, k: int, generator: torch.Generator, max_iter: int = 35,
                  tol: float = 1e-3) -> torch.Tensor:
    """Cluster ids ``(n,)`` of ``n`` features into ``k`` clusters by k-means with the cosine distance ``1 - cos``.

    Initial centres: ``k`` distinct random points (``generator``); an empty cluster takes a random point.
    """
    n = features.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f'cosine_kmeans: k={k} clusters for {n} points')
    x = F.normalize(features.double(), dim=1)
    centres = x[torch.randperm(n, generator=generator)[:k]].clone()
    assign = torch.zeros(n, dtype=torch.long)
    for _ in range(max_iter):
        assign = (x @ F.normalize(centres, dim=1).t()).argmax(dim=1)
        new = torch.zeros_like(centres).index_add_(0, assign, x)
        size = torch.bincount(assign, minlength=k)
        new = new / size.clamp(min=1)[:, None].double()
        for j in torch.nonzero(size == 0).flatten().tolist():
            new[j] = x[torch.randint(n, (1, ), generator=generator)]
        shift = ((new - centres)**2).sum().item()
        centres = new
        if shift < tol:
            break
    return (x @ F.normalize(centres, dim=1).t()).argmax(dim=1)


def cluster_subclasses(features: torch.Tensor, labels: torch.Tensor, num_classes: int, cluster_size: int = 10,
                       temperature: float = 0.1, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Global subclass ids ``(N,)`` (class ``c``'s ids follow those of the classes before it) and the class
    temperatures ``(C,)`` of ``N`` normalised features with their labels (module docstring)."""
    labels = labels.cpu().long()
    features = features.detach().cpu()
    if features.shape[0] != labels.numel():
        raise ValueError(f'cluster_subclasses: {features.shape[0]} features for {labels.numel()} labels')
    counts = torch.bincount(labels, minlength=num_classes).numpy()
    if len(counts) != num_classes or (counts == 0).any():
        raise ValueError(f'cluster_subclasses: every one of the {num_classes} classes needs a sample, counts '
                         f'{counts.tolist()}')
    num_sub = subclass_counts(counts, cluster_size)
    offsets = np.concatenate([[0], np.cumsum(num_sub)[:-1]])
    generator = torch.Generator().manual_seed(seed)
    sub = torch.empty_like(labels)
    for c in range(num_classes):
        where = torch.nonzero(labels == c).flatten()
        local = cosine_kmeans(features[where], int(num_sub[c]), generator) if num_sub[c] > 1 else \
            torch.zeros(len(where), dtype=torch.long)
        sub[where] = local + int(offsets[c])
    return sub, class_temperatures(F.normalize(features.float(), dim=1), labels, num_sub, temperature)


@register_into('HOOKS', scopes=('mmpretrain',))
class SBCLClusterHook(Hook):
    """Re-cluster SBCL's subclasses before epochs ``start_epoch, start_epoch + interval, ...`` (module docstring).

    Args:
        interval: epochs between clusterings. Default 10 (official CIFAR ``--step``; 5 on ImageNet-LT).
        start_epoch: the first clustering epoch (0-indexed). Default 10 (official CIFAR: plain SupCon before).
        cluster_size: the official ``--cluster`` (10 CIFAR, 20 ImageNet-LT). Default 10.
        temperature: the base of the class temperatures (official ``--temperature`` 0.1). Default 0.1.
        view: the view of the training pipeline whose features are clustered. Default 0 (official).
        batch_size: the feature pass's batch. Default 256.
        num_workers: its loader workers. Default 0.
        seed: the k-means seed (plus the epoch). Default 0.
    """
    priority = 'NORMAL'

    def __init__(self, interval: int = 10, start_epoch: int = 10, cluster_size: int = 10, temperature: float = 0.1,
                 view: int = 0, batch_size: int = 256, num_workers: int = 0, seed: int = 0) -> None:
        if interval < 1 or start_epoch < 0:
            raise ValueError(f'SBCLClusterHook: interval must be >= 1 and start_epoch >= 0, got {interval}, '
                             f'{start_epoch}')
        self.interval = interval
        self.start_epoch = start_epoch
        self.cluster_size = cluster_size
        self.temperature = temperature
        self.view = view
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def before_train_epoch(self, runner: Runner) -> None:
        epoch = runner.epoch
        if epoch < self.start_epoch or (epoch - self.start_epoch) % self.interval:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        loss = getattr(model, 'contrast_loss', None)
        if not isinstance(loss, SBCLLoss):
            raise RuntimeError(f'SBCLClusterHook needs a model whose contrast_loss is an SBCLLoss, got '
                               f'{type(loss).__name__}')
        dataset = runner.train_dataloader.dataset
        device = loss.class_tau.device
        sub = torch.zeros(len(dataset), dtype=torch.long, device=device)
        tau = torch.zeros(loss.num_classes, device=device)
        if get_rank() == 0:
            feats, labels = self.features(model, dataset, runner.train_dataloader.collate_fn)
            s, t = cluster_subclasses(feats, labels, loss.num_classes, self.cluster_size, self.temperature,
                                      self.seed + epoch)
            sub.copy_(s)
            tau.copy_(t)
        broadcast(sub, 0)
        broadcast(tau, 0)
        loss.set_clusters(sub, tau)
        runner.logger.info(f'SBCL: {int(sub.max()) + 1} subclasses at epoch {epoch}')

    @torch.no_grad()
    def features(self, model: torch.nn.Module, dataset, collate_fn) -> Tuple[torch.Tensor, torch.Tensor]:
        """The normalised projections of view ``view`` and the labels of every training sample, by dataset index:
        by the momentum (key) encoder when the model has one (official ImageNet-LT ``cluster()``: ``model(im_q=x)``
        returns ``normalize(encoder_k(x))``, eval mode), else by the query encoder (the CIFAR path)."""
        was_training = model.training
        model.eval()
        momentum = getattr(model, 'momentum_encoder', None)
        key_encoder = None if momentum is None else momentum.module  # the ImageNet-LT path: ``encoder_k``
        loader = DataLoader(dataset, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers,
                            collate_fn=collate_fn)
        feats, labels = [], []
        try:
            for data in loader:
                data = model.data_preprocessor(data, False)
                x = data['inputs'][self.view]
                if key_encoder is not None:
                    z = key_encoder(x)
                else:
                    z = model.neck((model.extract_feat(x)[-1], ))
                feats.append(F.normalize((z[-1] if isinstance(z, (tuple, list)) else z).float(), dim=1).cpu())
                labels.append(torch.cat([torch.as_tensor(ds.gt_label).reshape(-1) for ds in data['data_samples']]))
        finally:
            model.train(was_training)
        return torch.cat(feats), torch.cat(labels)
