"""RSG, the Rare-class Sample Generator (Wang et al., "RSG: A Simple but Effective Module for Learning Imbalanced
Datasets", CVPR 2021), and the classifier that inserts it between two backbone stages during training.

Official code (MIT; re-implemented from its maths, nothing copied): Jianf-Wang/RSG@3c507451,
``Imbalanced_Classification/models/RSG.py`` (the module), ``models/resnet_cifar.py`` and ``models/resnet.py`` (where
it sits, its initialisation), ``cifar_train.py`` and ``imagenet_lt_train.py`` (head classes, loss weights, recipes).

Notation: a batch of ``N`` feature maps ``F_i`` (``C_f x H x W``) with labels ``y_i``; ``C`` classes; ``K`` centres
per class ``c_{y,k}`` (``C_f`` vectors, broadcast over ``H x W``); ``GAP`` the spatial mean. Every step:

1. Assignment ``gamma_i = softmax_k(GAP(F_i)^T W_{y_i} + b_{y_i})`` on the *detached* map.
2. ``L_cesc = (1/N) sum_i sum_k gamma_ik ||F_i - c_{y_i,k}||^2`` (over all ``C_f H W`` entries); up to the epoch
   threshold plus the cross-entropy of a contrastive module that tells whether ``F_i`` and ``F_{i+N/2}``
   (``i < N/2``) share their class (label 1: same class).
3. After the threshold, when the batch holds head samples (the ``floor(0.2 C)`` most frequent classes) and tail
   samples: head ``h`` and tail ``t`` are paired segment by segment (:func:`rsg_segments`); with the arg-max centres
   ``k_h``, ``k_t`` (all detached) the head's variation ``v = F_h - c_{y_h,k_h}`` is transferred by a 3x3 conv
   ``T`` and added to the tail map: ``F~ = F_t + T(v)``, labelled ``y_t``. The generated maps are appended to the
   batch and go through the later stages, the neck and the head's loss with the original samples.
4. ``L_mv`` per segment: ``CE(contrastive(F_h, T(v)), 0) + (1/n) [sum_rows | |T(v)_r| - |v_r| | +
   sum | t^ * v^ - 1 |]``, ``n`` the segment's pairs, ``t^`` / ``v^`` the row-normalised ``F_t - c_{y_t,k_t}`` and
   ``T(v)``; averaged over the segments. "Rows" reshape the NCHW memory to ``(-1, C_f)`` (not per-pixel channel
   vectors) and the product is element-wise, as the official code computes them.
5. ``L = L_main + 0.1 L_cesc + 0.01 L_mv``.

Gradients: ``L_cesc`` trains ``W``, ``b``, the centres and (before the threshold) the contrastive module; ``L_mv``
trains ``T`` through a frozen contrastive module; neither reaches the backbone. The generated maps carry gradients
into ``T`` and the later stages only (``F_t`` is detached).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.func import functional_call

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into

INIT_MODES = ('rsg', 'resnet')


def rsg_head_classes(counts: Sequence[int], head_ratio: float = 0.2) -> List[int]:
    """The ``int(C * head_ratio)`` most frequent classes, most frequent first; among equal counts the lower index
    comes first.

    This is the official ImageNet-LT / iNat / Places rule (``imagenet_lt_train.py``: the arg-max of the counts,
    taken ``int(C * head_tail_ratio)`` times). The official CIFAR script takes the indices ``[0, int(C * ratio))``,
    the same classes on the Cao CIFAR-LT profile (class 0 the most frequent); ltmm always derives them from the
    counts.
    """
    counts = np.asarray(counts)
    num_head = int(len(counts) * head_ratio)
    return [int(c) for c in np.argsort(-counts, kind='stable')[:num_head]]


def rsg_segments(num_head: int, num_tail: int, strength: float = 1.0) -> List[Tuple[slice, slice]]:
    """How the head and tail samples of a batch are paired for generation: one ``(head slice, tail slice)`` per
    segment, positions among the batch's head samples and among its tail samples (both in batch order).

    With ``N_h >= N_t``: ``s = max(1, int(N_h * strength / N_t))`` segments, segment ``j`` pairing heads
    ``[j N_t, (j+1) N_t)`` with all tails; otherwise ``s = max(1, int(N_t * strength / N_h))``, segment ``j``
    pairing all heads with tails ``[j N_h, (j+1) N_h)`` (official ``RSG.forward``). Empty when either is 0.
    """
    if num_head == 0 or num_tail == 0:
        return []
    if num_head >= num_tail:
        return [(slice(j * num_tail, (j + 1) * num_tail), slice(0, num_tail))
                for j in range(max(1, int(num_head * strength / num_tail)))]
    return [(slice(0, num_head), slice(j * num_head, (j + 1) * num_head))
            for j in range(max(1, int(num_tail * strength / num_head)))]


def cesc_distances(feats: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """``||F_i - c_ik||^2`` summed over the ``C_f x H x W`` entries, each centre broadcast over ``H x W``.

    Computed as ``sum (F_i - m_i)^2 + H W |m_i - c_ik|^2`` with ``m_i`` the per-channel spatial mean of ``F_i``
    (the same value without the ``N x K x C_f x H x W`` tensor the official code expands).

    Args:
        feats: maps ``F`` (N, C_f, H, W).
        centers: each sample's ``K`` centres (N, K, C_f).

    Returns:
        (N, K) squared distances.
    """
    mean = feats.mean(dim=(2, 3))
    spread = (feats - mean[:, :, None, None]).pow(2).sum(dim=(1, 2, 3))
    return spread[:, None] + feats.shape[2] * feats.shape[3] * (mean[:, None, :] - centers).pow(2).sum(dim=2)


def _detached(module: nn.Module) -> Dict[str, torch.Tensor]:
    """Detached copies of ``module``'s parameters, for ``functional_call`` (a frozen module without switching
    ``requires_grad``)."""
    return {name: p.detach() for name, p in module.named_parameters()}


def _rows(x: torch.Tensor, channels: int) -> torch.Tensor:
    """The official ``x.view(-1, C_f)`` of an NCHW tensor: rows of ``C_f`` consecutive memory entries."""
    return x.reshape(-1, channels)


@register_into('MODELS', scopes=('mmpretrain',))
class RSG(nn.Module):
    """The Rare-class Sample Generator: see the module docstring for the maths.

    Used by :class:`RSGClassifier` in training only; the epoch comes from ``LossEpochHook`` (:meth:`set_epoch`).
    Its parameters are in the checkpoints (so that a run resumes); the plain network (same backbone, neck, head
    without the RSG) loads them with ``strict=False`` and ignores the ``rsg.*`` keys. The official code drops them
    from its checkpoints, so it cannot resume.

    Parameters: ``assign_weight`` ``W`` (C, C_f, K), standard normal; ``assign_bias`` ``b`` (C, K), ones;
    ``centers`` (C, K, C_f), zeros; ``transfer`` ``T``, a 3x3 conv C_f -> C_f; the contrastive module
    ``contrastive`` (1x1 conv 2 C_f -> D, ReLU, 3x3 conv D -> D, global average pooling) and ``contrastive_fc``
    (D -> 2). Like every parameter they get the optimiser's weight decay (the official SGD covers them too).

    Under DDP every rank pairs and generates within its own batch, exactly what each ``nn.DataParallel`` replica
    did in the official runs (``RSG.forward`` runs per GPU chunk there), and the auxiliary losses are averaged over
    ranks as the official ``.mean()`` over replicas. The contrastive module is frozen after the threshold by using
    detached copies of its weights (no ``requires_grad`` switch, which DDP's reducer would not see). Parameters
    unused in a step (``T`` before the threshold or in a batch without head or tail samples, the contrastive module
    after it) need ``find_unused_parameters=True`` under DDP.

    Args:
        num_classes: ``C`` (:class:`RSGClassifier` fills it in from its head).
        in_channels: ``C_f``, channels of the maps at the insertion point: 32 after ResNet-32's second stage
            (CIFAR), 1024 after ResNet-50 / ResNeXt-50's layer3 (official ``feature_maps_shape``).
        class_stats: training counts (anything ``load_class_stats`` accepts); they decide the head classes.
        num_centers: ``K``. Default 15 (official ``n_center=15`` in ``resnet_cifar.py`` and ``resnet.py``).
        contrastive_channels: ``D``. Default 256 (official ``contrastive_module_dim=256``).
        head_ratio: the head classes are the ``int(C * head_ratio)`` most frequent. Default 0.2 (official
            ``--head_tail_ratio 0.2`` of every training script).
        transfer_strength: sets the number of segments, in (0, 1]. Default 1.0 (official ``--transfer_strength``).
            The official code breaks on values above 1 (it pairs slices of unequal length).
        epoch_thresh: the contrastive term is trained at epochs ``<= epoch_thresh`` (0-indexed), generation happens
            at epochs ``> epoch_thresh``. 159 on CIFAR-LT (``cifar_train.py``), 79 on ImageNet-LT
            (``imagenet_lt_train.py``); -1 generates from the first epoch.
        cesc_weight: weight of ``L_cesc``. Default 0.1 (official training loop).
        mv_weight: weight of ``L_mv``. Default 0.01 (official training loop).
        init_mode: ``'rsg'``: the module's own initialisation (``RSG.py``: Kaiming-normal fan-in convolutions with
            zero bias, a standard-normal ``contrastive_fc`` weight), as the official CIFAR networks keep it;
            ``'resnet'``: what the official ImageNet-LT / iNat / Places ``models/resnet.py`` does after building
            the RSG (its loop over all modules re-initialises the convolutions Kaiming-normal fan-out and the
            ``contrastive_fc`` weight Kaiming-normal fan-in; biases stay zero).
    """

    def __init__(self, num_classes: int, in_channels: int, class_stats: ClassStatsLike, num_centers: int = 15,
                 contrastive_channels: int = 256, head_ratio: float = 0.2, transfer_strength: float = 1.0,
                 epoch_thresh: int = 159, cesc_weight: float = 0.1, mv_weight: float = 0.01,
                 init_mode: str = 'rsg') -> None:
        super().__init__()
        for name, value in (('num_classes', num_classes), ('in_channels', in_channels), ('num_centers', num_centers),
                            ('contrastive_channels', contrastive_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'RSG: {name} must be a positive int, got {value!r}')
        if not 0.0 < transfer_strength <= 1.0:
            raise ValueError(f'RSG: transfer_strength must be in (0, 1], got {transfer_strength}')
        if isinstance(epoch_thresh, bool) or not isinstance(epoch_thresh, int) or epoch_thresh < -1:
            raise ValueError(f'RSG: epoch_thresh must be an int >= -1, got {epoch_thresh!r}')
        if cesc_weight < 0 or mv_weight < 0:
            raise ValueError(f'RSG: loss weights must be >= 0, got cesc_weight={cesc_weight}, mv_weight={mv_weight}')
        if init_mode not in INIT_MODES:
            raise ValueError(f'RSG: init_mode must be one of {INIT_MODES}, got {init_mode!r}')
        counts = load_class_stats(class_stats, num_classes).image_count
        self.head_classes = rsg_head_classes(counts, head_ratio)
        if not 0 < len(self.head_classes) < num_classes:
            raise ValueError(f'RSG: head_ratio={head_ratio} with {num_classes} classes gives '
                             f'{len(self.head_classes)} head classes; it needs at least one head and one tail class')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_centers = num_centers
        self.head_ratio = float(head_ratio)
        self.transfer_strength = float(transfer_strength)
        self.epoch_thresh = epoch_thresh
        self.cesc_weight = float(cesc_weight)
        self.mv_weight = float(mv_weight)
        self.init_mode = init_mode
        is_head = torch.zeros(num_classes, dtype=torch.bool)
        is_head[self.head_classes] = True
        self.register_buffer('is_head', is_head, persistent=False)  # rebuilt from class_stats
        self.register_buffer('epoch', torch.full((), -1, dtype=torch.int64))

        self.assign_weight = nn.Parameter(torch.randn(num_classes, in_channels, num_centers))
        self.assign_bias = nn.Parameter(torch.ones(num_classes, num_centers))
        self.centers = nn.Parameter(torch.zeros(num_classes, num_centers, in_channels))
        self.transfer = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.contrastive = nn.Sequential(nn.Conv2d(2 * in_channels, contrastive_channels, 1), nn.ReLU(),
                                         nn.Conv2d(contrastive_channels, contrastive_channels, 3, padding=1),
                                         nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.contrastive_fc = nn.Linear(contrastive_channels, 2)
        self._init_parameters()

    def _init_parameters(self) -> None:
        for conv in (self.transfer, self.contrastive[0], self.contrastive[2]):
            if self.init_mode == 'rsg':
                nn.init.kaiming_normal_(conv.weight)
            else:
                nn.init.kaiming_normal_(conv.weight, mode='fan_out', nonlinearity='relu')
            nn.init.zeros_(conv.bias)
        if self.init_mode == 'rsg':
            nn.init.normal_(self.contrastive_fc.weight)
        else:
            nn.init.kaiming_normal_(self.contrastive_fc.weight)
        nn.init.zeros_(self.contrastive_fc.bias)

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-indexed; ``LossEpochHook`` calls it before each epoch, also after a resume). The phase
        is logged at the first epoch set and when it changes."""
        before = int(self.epoch)
        if before < 0 or (before > self.epoch_thresh) != (epoch > self.epoch_thresh):
            phase = ('generating tail samples' if epoch > self.epoch_thresh else
                     f'training the contrastive module (generation after epoch {self.epoch_thresh})')
            print_log(f'RSG: epoch {epoch}: {phase}', logger='current')
        self.epoch.fill_(epoch)

    @property
    def generating(self) -> bool:
        """Whether the current epoch is past the threshold."""
        return int(self.epoch) > self.epoch_thresh

    def assignment(self, pooled: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``gamma`` (N, K): softmax over the centres of ``pooled^T W_y + b_y``, ``pooled`` (N, C_f)."""
        logits = torch.einsum('nc,nck->nk', pooled, self.assign_weight[target]) + self.assign_bias[target]
        return logits.softmax(dim=1)

    def contrastive_logits(self, pairs: torch.Tensor, frozen: bool) -> torch.Tensor:
        """(n, 2) logits of the contrastive module on channel-concatenated pairs (n, 2 C_f, H, W); ``frozen`` uses
        detached weights (gradients reach the input only)."""
        if not frozen:
            return self.contrastive_fc(self.contrastive(pairs))
        feats = functional_call(self.contrastive, _detached(self.contrastive), (pairs, ))
        return functional_call(self.contrastive_fc, _detached(self.contrastive_fc), (feats, ))

    def pair_loss(self, feats: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the contrastive module on the pairs ``(F_i, F_{i + N//2})``, ``i < N//2``, label 1 when
        they share their class. With an odd ``N`` the last sample is left out (the official code fails there);
        with ``N < 2`` it is 0."""
        half = feats.size(0) // 2
        if half == 0:
            return feats.new_zeros(())
        pairs = torch.cat([feats[:half], feats[half:2 * half]], dim=1)
        return F.cross_entropy(self.contrastive_logits(pairs, frozen=False),
                               (target[:half] == target[half:2 * half]).long())

    def transfer_variation(self, head_feats: torch.Tensor, head_var: torch.Tensor, tail_feats: torch.Tensor,
                           tail_var: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One segment of paired head / tail samples (all inputs detached, (n, C_f, H, W)): the generated maps
        ``F_t + T(v)`` and the segment's ``L_mv``.

        Args:
            head_feats: ``F_h``.
            head_var: ``v = F_h - c_{y_h,k_h}``.
            tail_feats: ``F_t``.
            tail_var: ``F_t - c_{y_t,k_t}``.
        """
        n, channels = head_feats.shape[:2]
        moved = self.transfer(head_var)
        critic = self.contrastive_logits(torch.cat([head_feats, moved], dim=1), frozen=True)
        ce = F.cross_entropy(critic, torch.zeros(n, dtype=torch.long, device=critic.device))
        norms = (_rows(moved, channels).norm(dim=1) - _rows(head_var, channels).norm(dim=1)).abs().sum()
        directions = (F.normalize(_rows(tail_var, channels), dim=1) * F.normalize(_rows(moved, channels), dim=1)
                      - 1).abs().sum()
        return tail_feats + moved, ce + (norms + directions) / n

    def forward(self, feats: torch.Tensor, target: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                                                            Dict[str, torch.Tensor]]:
        """One training step at the insertion point.

        Args:
            feats: the maps (N, C_f, H, W) of the stage before the insertion point.
            target: labels (N,).

        Returns:
            the maps with the generated ones appended (N + G, C_f, H, W), their labels (N + G,), and the losses:
            ``loss_cesc`` and ``loss_mv`` (weighted), ``rsg_generated`` (G, logged, not a loss).
        """
        if int(self.epoch) < 0:
            raise RuntimeError('RSG has not been told the epoch: add dict(type="LossEpochHook") to custom_hooks')
        if feats.dim() != 4 or feats.size(1) != self.in_channels:
            raise ValueError(f'RSG(in_channels={self.in_channels}) got maps of shape {tuple(feats.shape)}')
        if target.shape != feats.shape[:1]:
            raise ValueError(f'RSG: {tuple(target.shape)} labels for {feats.size(0)} maps')
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= self.num_classes):
            raise ValueError(f'RSG: labels must lie in [0, {self.num_classes}), got {target.tolist()}')
        with torch.autocast(device_type=feats.device.type, enabled=False):  # float32 under AMP
            return self._forward(feats, target)

    def _forward(self, feats: torch.Tensor, target: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                                                             Dict[str, torch.Tensor]]:
        x = feats.detach().float()
        gamma = self.assignment(x.mean(dim=(2, 3)), target)
        loss_cesc = (gamma * cesc_distances(x, self.centers[target])).sum() / max(x.size(0), 1)
        loss_mv = x.new_zeros(())
        maps, targets = [feats], [target]
        if not self.generating:
            loss_cesc = loss_cesc + self.pair_loss(x, target)
        else:
            head = self.is_head[target]
            head_idx, tail_idx = head.nonzero()[:, 0], (~head).nonzero()[:, 0]
            segments = rsg_segments(len(head_idx), len(tail_idx), self.transfer_strength)
            if segments:
                with torch.no_grad():
                    nearest = self.centers[target, gamma.argmax(dim=1)]  # (N, C_f), the arg-max centres
                    var = x - nearest[:, :, None, None]
                for head_part, tail_part in segments:
                    h, t = head_idx[head_part], tail_idx[tail_part]
                    generated, segment_mv = self.transfer_variation(x[h], var[h], x[t], var[t])
                    maps.append(generated.to(feats.dtype))
                    targets.append(target[t])
                    loss_mv = loss_mv + segment_mv
                loss_mv = loss_mv / len(segments)
        num_generated = sum(m.size(0) for m in maps[1:])
        losses = dict(loss_cesc=self.cesc_weight * loss_cesc, loss_mv=self.mv_weight * loss_mv,
                      rsg_generated=x.new_tensor(float(num_generated)))
        return torch.cat(maps), torch.cat(targets), losses

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, in_channels={self.in_channels}, num_centers={self.num_centers}, '
                f'head_classes={len(self.head_classes)}, epoch_thresh={self.epoch_thresh}, '
                f'transfer_strength={self.transfer_strength}, init_mode={self.init_mode!r}')


@register_into('MODELS', scopes=('mmpretrain',))
class RSGClassifier(ImageClassifier):
    """An ``ImageClassifier`` that inserts an :class:`RSG` after the backbone sub-module ``rsg_after`` in training.

    ``loss``: the backbone runs as usual, but the output of ``backbone.<rsg_after>`` is replaced by the RSG's
    (the batch with the generated maps appended), so every later stage, the neck and the head's loss see the
    enlarged batch; the generated rows get their tail labels. The loss dict adds ``loss_cesc`` and ``loss_mv``
    (already weighted) and ``rsg_generated`` (logged). ``predict`` / ``extract_feat`` / ``tensor``: the plain
    network (the RSG does not run), which is what the official code tests.

    Official insertion points: after ``layer2`` of the CIFAR ResNet-32 (``rsg_after='stages.1'`` of ltmm's
    ``ResNet32CIFAR``, 32 x 16 x 16), after ``layer3`` of ResNet-50 / ResNeXt-50 / ResNet-152
    (``rsg_after='layer3'`` of mmpretrain's ``ResNet`` / ``ResNeXt``, 1024 x 14 x 14). Backbone outputs taken
    before the insertion point (``out_indices``) keep the original batch.

    The labels must be hard (``gt_label``): batch augments that make soft targets (Mixup, CutMix) are refused.

    Args:
        backbone: backbone config or module.
        rsg: the :class:`RSG` config (``num_classes`` defaults to the head's) or module.
        rsg_after: dotted name of the backbone sub-module after which the RSG runs (``nn.Module.get_submodule``).
        neck, head, **kwargs: as ``ImageClassifier``.
    """

    def __init__(self, backbone: Union[dict, nn.Module], rsg: Union[dict, nn.Module], rsg_after: str,
                 neck: Optional[Union[dict, nn.Module]] = None, head: Optional[Union[dict, nn.Module]] = None,
                 **kwargs) -> None:
        super().__init__(backbone, neck=neck, head=head, **kwargs)
        if isinstance(rsg, dict):
            rsg = dict(rsg)
            if getattr(self.head, 'num_classes', None) is not None:
                rsg.setdefault('num_classes', self.head.num_classes)
            rsg = MODELS.build(rsg)
        if not isinstance(rsg, RSG):
            raise TypeError(f'RSGClassifier: rsg must build an RSG, got {type(rsg).__name__}')
        try:
            self.backbone.get_submodule(rsg_after)
        except AttributeError:
            children = [name for name, _ in self.backbone.named_children()]
            raise ValueError(f'RSGClassifier: rsg_after={rsg_after!r} names no sub-module of '
                             f'{type(self.backbone).__name__} (its children: {children})') from None
        self.rsg = rsg
        self.rsg_after = rsg_after

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        """Losses of a batch: the head's loss on the batch enlarged by the RSG, plus the RSG's losses."""
        if any('gt_score' in sample for sample in data_samples):
            raise ValueError('RSGClassifier needs hard labels (gt_label); batch augments that make soft targets '
                             '(Mixup, CutMix) are not supported')
        target = torch.cat([sample.gt_label for sample in data_samples]).to(inputs.device)
        inserted: dict = {}

        def insert(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
            if inserted:
                raise RuntimeError(f'RSGClassifier: backbone.{self.rsg_after} ran twice in one forward')
            maps, inserted['target'], inserted['losses'] = self.rsg(output, target)
            return maps

        handle = self.backbone.get_submodule(self.rsg_after).register_forward_hook(insert)
        try:
            feats = self.extract_feat(inputs)
        finally:
            handle.remove()
        if not inserted:
            raise RuntimeError(f'RSGClassifier: backbone.{self.rsg_after} did not run in the forward')
        label_device = data_samples[0].gt_label.device
        extra = inserted['target'][len(data_samples):].to(label_device)
        samples = list(data_samples) + [DataSample().set_gt_label(extra[i:i + 1]) for i in range(len(extra))]
        losses = self.head.loss(feats, samples)
        losses.update(inserted['losses'])
        return losses
