"""TSC, targeted supervised contrastive learning (Li et al., "Targeted Supervised Contrastive Learning for
Long-Tailed Recognition", CVPR 2022): KCL plus one fixed target per class on the hypersphere, the targets spread
uniformly in advance and matched to the classes online by the Hungarian algorithm, so that the class centres of the
learned features stay uniform however imbalanced the data.

Official code (MIT; re-implemented from its maths, nothing copied): LTH14/targeted-supcon@c4f15ebf
``moco/builder.py`` (``KCL`` with ``targeted=True``, lines 173-433), ``target_generation.py`` (lines 9-42) and
``main_moco_supcon_imba.py``; the README run ``--K 6 --tr 1 --sep_t --tw 0.2`` is the one implemented.

Per step, with the unit queries ``q_i`` (labels ``y_i``), keys ``k_i``, queue keys ``u_j`` and the targets ``t_c``:

1. centroids (no gradient): for every class ``y`` in the batch gathered from all ranks,
   ``c_y <- normalize(m c_y + (1 - m) normalize(mean of the gathered q of class y))``, ``m = 0.9``;
2. assignment (no gradient): ``sigma = argmax over permutations of sum_y c_y . t_sigma(y)`` (scipy's
   ``linear_sum_assignment`` on the ``C x C`` similarities, on the CPU, every step as the official code), computed on
   rank 0 and broadcast;
3. loss, over ``l_i = [q_i . k_i, q_i . u_1..K, q_i . t_1..C] / T`` (every target is a negative for every anchor
   except its own)::

       n_i = 1 + |S_i| + 1
       L   = -(1/B) sum_i [ log p_i0 + sum_{j in S_i} log p_ij + tw log p_{i, K + sigma(y_i)} ] / n_i

   with ``S_i`` KCL's ``k`` sampled same-class queue slots (:func:`~ltmm.cls.losses.kcl_loss.select_positives`):
   the class term is ``loss_tsc_class``, the ``tw`` term ``loss_tsc_target`` (the target counts as a whole positive
   in ``n_i`` but weighs ``tw``, as the official ``sep_t``).

``tw = 0`` is *not* exactly KCL: the targets stay negatives in the denominator and ``n_i`` still counts the target
(the official formula). The official two-phase schedule (half the epochs plain KCL, then TSC with a new optimiser)
is two runs in ltmm: a KCL config, then a TSC config with ``load_from`` its checkpoint (configs/tsc).

State, in buffers (so in the checkpoint, and a resumed run keeps them): ``targets`` ``(C, d)``, ``centroids``
``(C, d)`` (random unit vectors at the start, as the official ``class_centroid``), ``assignment`` ``(C,)`` (the last
``sigma``), ``targets_ready``.

Targets: the official builder loads a shipped ``optimal_1000_128_analytical.npy`` whose generation is not published;
its README tells users to run ``target_generation.py``: Adam (lr 1e-3) for 10000 steps on the uniformity loss
``mean_i log sum_j exp(t_i . t_j / 0.07)`` of ``normalize(x)``, ``x ~ N(0, 1)`` of shape ``(C, d)``, keeping the
normalised points of the lowest loss seen. ltmm runs that procedure (:func:`generate_targets`) on the first training
step, on the training device, from a fixed seed, on rank 0 (broadcast); or loads ``targets_file`` (``.npy``, e.g. the
official analytical file for ImageNet-LT).
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...core.distributed import broadcast_, concat_all_gather, rank_and_world_size
from ...core.registry import register_into
from .kcl_loss import _check_shapes, moco_logits, select_positives
from .supcon_loss import supcon_loss


def uniformity_loss(points: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """``mean_i log sum_j exp(x_i . x_j / T)`` over the rows of ``points`` (the diagonal included), the objective of
    the official ``target_generation.py`` (``uniform_loss``)."""
    return torch.logsumexp(points @ points.T / temperature, dim=1).mean()


def generate_targets(num_classes: int, dim: int, steps: int = 10000, lr: float = 1e-3, temperature: float = 0.07,
                     seed: int = 0, device: Optional[torch.device] = None) -> torch.Tensor:
    """``num_classes`` unit targets in ``dim`` dimensions spread by the official ``target_generation.py``
    procedure (module docstring): Adam on ``x`` (``N(0, 1)`` from a generator seeded with ``seed``), loss
    :func:`uniformity_loss` of ``normalize(x)``, the normalised points of the lowest loss kept. float32."""
    if num_classes < 1 or dim < 1 or steps < 0:
        raise ValueError(f'generate_targets: num_classes and dim must be >= 1 and steps >= 0, got {num_classes}, '
                         f'{dim}, {steps}')
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_classes, dim, generator=generator).to(device).requires_grad_()
    optimizer = torch.optim.Adam([x], lr=lr)
    best, best_loss = F.normalize(x.detach(), dim=1), float('inf')
    with torch.enable_grad():
        for _ in range(steps):
            points = F.normalize(x, dim=1)
            loss = uniformity_loss(points, temperature)
            if loss.item() < best_loss:
                best, best_loss = points.detach().clone(), loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return best


def assign_targets(centroids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The permutation ``sigma`` ``(C,)`` (int64, on ``centroids``' device) maximising
    ``sum_y centroids_y . targets_sigma(y)`` (scipy's ``linear_sum_assignment``, as the official code, on float32
    similarities)."""
    from scipy.optimize import linear_sum_assignment

    similarity = (centroids.float() @ targets.float().T).cpu().numpy()
    rows, cols = linear_sum_assignment(-similarity)
    sigma = np.empty(len(rows), dtype=np.int64)
    sigma[rows] = cols
    return torch.from_numpy(sigma).to(centroids.device)


@register_into('MODELS', scopes=('mmpretrain',))
class TSCLoss(nn.Module):
    """TSC's loss (module docstring), the ``contrast_loss`` of a
    :class:`~ltmm.cls.classifiers.QueueContrastClassifier`.

    Args:
        num_classes: ``C`` (the official code hard-codes 1000).
        feat_dim: ``d``, the key width. Default 128 (``--moco-dim``).
        temperature: ``T``. Default 0.07 (``--moco-t``).
        num_positives: ``k``. Default 6 (README ``--K 6``).
        sampling, replacement: KCL's positive selection. Default ``'random'`` without replacement (the official
            rounds of uniform draws; see :func:`~ltmm.cls.losses.kcl_loss.select_positives`).
        target_weight: ``tw``. Default 0.2 (README ``--tw 0.2``; the argparse default is 1).
        centroid_momentum: ``m`` of the centroid update. Default 0.9 (``builder.py`` line 366).
        targets_file: a ``.npy`` of ``(C, d)`` targets to load instead of generating them. Default None.
        target_steps, target_lr, target_temperature: the generation's Adam steps, learning rate and uniformity
            temperature. Defaults 10000, 1e-3, 0.07 (``target_generation.py`` lines 10, 24, 28).
        target_seed: the seed of the generation's starting points. Default 0 (the official script draws from the
            global generator, unseeded).
        loss_weight: multiplies both terms. Default 1.0.
    """

    def __init__(self, num_classes: int, feat_dim: int = 128, temperature: float = 0.07,
                 num_positives: Optional[int] = 6, sampling: str = 'random', replacement: bool = False,
                 target_weight: float = 0.2, centroid_momentum: float = 0.9, targets_file: Optional[str] = None,
                 target_steps: int = 10000, target_lr: float = 1e-3, target_temperature: float = 0.07,
                 target_seed: int = 0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f'TSCLoss: num_classes must be >= 2, got {num_classes}')
        if not temperature > 0:
            raise ValueError(f'TSCLoss: temperature must be > 0, got {temperature!r}')
        if target_weight < 0:
            raise ValueError(f'TSCLoss: target_weight (tw) must be >= 0, got {target_weight!r}')
        if not 0.0 <= centroid_momentum < 1.0:
            raise ValueError(f'TSCLoss: centroid_momentum must be in [0, 1), got {centroid_momentum!r}')
        select_positives(torch.zeros(1, 1, dtype=torch.bool), num_positives, sampling, replacement)  # checks
        self.num_classes, self.feat_dim = int(num_classes), int(feat_dim)
        self.temperature = float(temperature)
        self.num_positives, self.sampling, self.replacement = num_positives, sampling, bool(replacement)
        self.target_weight = float(target_weight)
        self.centroid_momentum = float(centroid_momentum)
        self.target_steps, self.target_lr = int(target_steps), float(target_lr)
        self.target_temperature, self.target_seed = float(target_temperature), int(target_seed)
        self.loss_weight = float(loss_weight)
        self.register_buffer('targets', torch.zeros(num_classes, feat_dim))
        self.register_buffer('targets_ready', torch.zeros((), dtype=torch.bool))
        self.register_buffer('centroids', F.normalize(torch.randn(num_classes, feat_dim), dim=1))
        self.register_buffer('assignment', torch.arange(num_classes))
        if targets_file is not None:
            targets = torch.from_numpy(np.load(targets_file)).float()
            if targets.shape != (num_classes, feat_dim):
                raise ValueError(f'TSCLoss: {targets_file} holds targets of shape {tuple(targets.shape)}, expected '
                                 f'({num_classes}, {feat_dim})')
            self.targets.copy_(targets)
            self.targets_ready.fill_(True)

    @torch.no_grad()
    def prepare_targets(self, device: torch.device) -> None:
        """Generate the targets once (rank 0, broadcast), unless loaded or restored from a checkpoint."""
        if bool(self.targets_ready):
            return
        if rank_and_world_size()[0] == 0:
            self.targets.copy_(generate_targets(self.num_classes, self.feat_dim, self.target_steps, self.target_lr,
                                                self.target_temperature, self.target_seed, device))
        broadcast_(self.targets)
        self.targets_ready.fill_(True)

    @torch.no_grad()
    def update_assignment(self, query: torch.Tensor, labels: torch.Tensor) -> None:
        """Steps 1 and 2 of the module docstring: the centroid update from the gathered batch, then the Hungarian
        assignment on rank 0, broadcast."""
        feats = concat_all_gather(query.float())
        labels = concat_all_gather(labels.reshape(-1).long())
        counts = torch.bincount(labels, minlength=self.num_classes)
        sums = torch.zeros_like(self.centroids).index_add_(0, labels, feats)
        present = counts > 0
        batch_centroids = F.normalize(sums[present] / counts[present, None], dim=1)
        m = self.centroid_momentum
        self.centroids[present] = F.normalize(m * self.centroids[present] + (1 - m) * batch_centroids, dim=1)
        if rank_and_world_size()[0] == 0:
            self.assignment.copy_(assign_targets(self.centroids, self.targets))
        broadcast_(self.assignment)

    def forward(self, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                labels: torch.Tensor, **unused) -> Dict[str, torch.Tensor]:
        """``{'loss_tsc_class', 'loss_tsc_target'}`` (mmengine sums them) for unit queries and keys ``(B, d)``, the
        queue ``(K, d)`` with its labels ``(K,)`` and the labels ``(B,)``; other keyword arguments of the classifier
        are ignored."""
        _check_shapes('TSCLoss', query, key, queue_feats, queue_labels, labels)
        if query.shape[1] != self.feat_dim:
            raise ValueError(f'TSCLoss: feat_dim={self.feat_dim} but the queries are {query.shape[1]}-d')
        labels = labels.reshape(-1).long()
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f'TSCLoss: labels must be in [0, {self.num_classes}), got '
                             f'[{int(labels.min())}, {int(labels.max())}]')
        self.prepare_targets(query.device)
        self.update_assignment(query.detach(), labels)
        num_queue = queue_feats.shape[0]
        logits = moco_logits(query.float(), key.float(), queue_feats.float(), self.targets) / self.temperature
        same_class = (labels[:, None] == queue_labels.reshape(1, -1)) & (queue_labels.reshape(1, -1) >= 0)
        sampled = select_positives(same_class, self.num_positives, self.sampling, self.replacement)
        class_pos = torch.cat([torch.ones_like(logits[:, :1]), sampled, torch.zeros_like(logits[:, :self.num_classes])],
                              dim=1)
        target_pos = torch.zeros_like(logits)
        target_pos[torch.arange(len(labels), device=labels.device), 1 + num_queue + self.assignment[labels]] = 1.0
        count = class_pos.sum(dim=1) + 1.0
        loss_class = supcon_loss(logits, class_pos, pos_norm=count)
        loss_target = self.target_weight * supcon_loss(logits, target_pos, pos_norm=count)
        return dict(loss_tsc_class=self.loss_weight * loss_class, loss_tsc_target=self.loss_weight * loss_target)
