"""CC-SAM: Class-Conditional Sharpness-Aware Minimization (Zhou, Li, Zhao, Heng and Gong, "Class-Conditional
Sharpness-Aware Minimization for Deep Long-Tailed Recognition", CVPR 2023), both stages, as the official code runs
them.

Official code (no licence file; re-implemented from its maths, nothing copied): zzpustc/CC-SAM@651d3df6
``train_cifar.py`` (``train``: stage 1, lines 115-213; ``train_sample``: stage 2, lines 40-113),
``utils/utils.py`` (``pre_compute_class_ratio`` lines 88-105, ``get_optimizer``, ``lr_reset``, ``freeze_backbone``,
``mixup_data``, ``param_count``), ``utils/pytorch.py`` (``grad_norm``, lines 19-28) and ``configs/Cifar100.json``.

Why a head and not an optimiser wrapper: the official stage 1 is not SAM's two forward/backward passes. It runs one
forward pass, takes per-class gradients of the **classifier only** (``torch.autograd.grad`` with respect to the last
linear layer), evaluates that layer at ``theta + eps_c`` on the class-c features of the same forward pass, restores
it, and runs **one** backward pass of ``(1 - phi) * L_ori + phi * L_flat``. Everything it needs (the pooled features,
the un-mixed labels, the classifier) is inside the head, and the optimiser only ever sees one scalar loss. An mmengine
``OptimWrapper`` sees that scalar loss only (``update_params(loss)``) and cannot re-run a forward pass, so a wrapper
would need a second full forward/backward per step (twice the cost, all parameters perturbed: not the official
method) or the model's ``train_step`` replaced (which ``MMDistributedDataParallel`` bypasses). As a head, CC-SAM keeps
mmengine's ``train_step`` and ``OptimWrapper.update_params`` contracts unchanged:

- AMP: the per-class gradients are taken of the *unscaled* per-sample losses, in float32 with autocast off, on
  detached copies of the logits; the grad scaler only ever sees the final loss, which ``AmpOptimWrapper`` scales,
  unscales and skips when non-finite as for any loss (a non-finite feature makes the loss non-finite, so the step is
  skipped and the scale lowered).
- DDP: the per-class gradients never touch the parameters' ``.grad`` nor DDP's reducer (they are computed in closed
  form, below, from detached tensors); the one backward pass all-reduces once. The per-class gradients are those of
  the **global** batch, as under the official ``nn.DataParallel``: every rank all-gathers the detached features,
  logit gradients and labels (``sync=True``), so every rank builds the same ``eps_c`` and a 2-rank step equals a
  1-process step on the concatenated batch.
"""
import math
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from ...core.reweighting import Counts
from ..losses.base import fill_loss_num_classes

STAGES = (1, 2)
_PARAM_NORM_EPS = 1e-12  # official train_cifar.py line 156: grad_norm(classifier params) + 1e-12


def _fp32(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32, or in its own dtype when that is wider (float64 stays float64)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def _float64(values: Counts) -> torch.Tensor:
    return values.double() if isinstance(values, torch.Tensor) else torch.tensor(np.asarray(values, np.float64))


def check_counts(counts: Counts, minimum: int, why: str) -> torch.Tensor:
    """``counts`` as float64 (C,), every count at least ``minimum``; otherwise a ValueError naming the classes."""
    n = _float64(counts)
    if n.ndim != 1 or n.numel() == 0:
        raise ValueError(f'class counts must be a non-empty 1-D sequence, got shape {tuple(n.shape)}')
    bad = torch.nonzero(n < minimum).flatten().tolist()
    if bad:
        raise ValueError(f'{why} needs every class count >= {minimum}; class index {bad[:10]} has '
                         f'{[int(n[i]) for i in bad[:10]]}')
    return n


def class_conditional_rho(class_counts: torch.Tensor, grad_norms: torch.Tensor, param_norm: torch.Tensor,
                          num_params: int, noise_ratio: float = 1e-6) -> torch.Tensor:
    """CC-SAM's per-class radius of one classifier tensor ``p`` (official ``train_cifar.py`` line 166)::

        rho_{c,p} = r * sqrt(|theta|) / (sqrt(|g_{c,p}|) * sqrt(2) * (n_c - 1)^(1/4) * P^(1/4))

    with ``n_c`` the training count of class ``c``, ``g_{c,p}`` the gradient of class c's mean batch loss with respect
    to ``p``, ``|theta|`` the L2 norm of all the classifier's parameters (official ``grad_norm``, which despite its
    name takes parameter norms, plus 1e-12) and ``P`` their number of elements (``param_count``). The perturbation of
    ``p`` is then ``eps_{c,p} = rho_{c,p} * sqrt(P) * g_{c,p} / |g_{c,p}|`` (line 168).

    Args:
        class_counts: ``n_c``, any shape; every value >= 2 (``n_c = 1`` divides by zero in the official code).
        grad_norms: ``|g_{c,p}|``, the same shape; a zero norm gives an infinite radius (the caller guards it).
        param_norm: ``|theta|`` (scalar tensor, the 1e-12 already added).
        num_params: ``P``.
        noise_ratio: ``r``. Default 1e-6 (official ``configs/Cifar100.json`` and ``Cifar10.json``, ``noise_ratio``).
    """
    return (noise_ratio * param_norm.sqrt() / grad_norms.sqrt() / math.sqrt(2.0)
            / (class_counts - 1.0).pow(0.25) / num_params ** 0.25)


def ccsam_logit_shift(feats: torch.Tensor, labels: torch.Tensor, batch_feats: torch.Tensor,
                      batch_residuals: torch.Tensor, batch_labels: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor], class_counts: torch.Tensor,
                      noise_ratio: float = 1e-6) -> torch.Tensor:
    """Stage 1: how the class-conditional perturbation of the linear classifier moves each sample's logits.

    For a sample of class ``c`` the official code evaluates the classifier at ``theta + eps_c``: its logits are
    ``(W + eps_{c,W}) h + (b + eps_{c,b}) = z + Delta``. With ``R_i = dl_i / dz_i`` (the gradient of sample i's loss
    with respect to its logits) and ``m_c`` the number of class-c samples in the batch, class c's gradients are
    ``g_{c,W} = (1/m_c) sum_{i in c} R_i h_i^T`` and ``g_{c,b} = (1/m_c) sum_{i in c} R_i``, and

        Delta_j = rho_{c,W} sqrt(P) / |g_{c,W}| * (1/m_c) sum_{i in c} (h_i . h_j) R_i
                + rho_{c,b} sqrt(P) / |g_{c,b}| * g_{c,b}                           (j of class c)

    computed from Gram matrices (``|g_{c,W}|^2 = (1/m_c^2) sum_{i,k in c} (R_i . R_k)(h_i . h_k)``) without
    materialising any ``g_{c,W}`` (C x D per class) and without a loop over classes; it equals the official loop of
    ``autograd.grad`` / perturb / forward / restore exactly (tests/cls/test_ccsam.py checks it against a transcription
    of that loop). ``rho`` is :func:`class_conditional_rho`. A class whose gradient is exactly zero is not perturbed
    (official: 0 / 0 = NaN).

    Args:
        feats: ``h_j`` of the samples whose shift is wanted, (B, D).
        labels: their (un-mixed) labels, (B,).
        batch_feats: the features of the batch that defines ``g_c`` (under DDP the global batch), (M, D); it
            contains the rows of ``feats``.
        batch_residuals: ``R_i`` of that batch, (M, C).
        batch_labels: its labels, (M,).
        weight: classifier weight ``W`` (C, D), used as a constant.
        bias: classifier bias ``b`` (C,) or None.
        class_counts: training count ``n_c`` of every class, (C,), each >= 2.
        noise_ratio: ``r``. Default 1e-6.

    Returns:
        ``Delta`` (B, C), in the promoted dtype of the inputs (at least float32). ``eps`` is a constant (no
        gradient flows to the batch tensors, ``W`` or ``b``), but ``Delta_j = eps_{c,W} h_j + eps_{c,b}`` is
        differentiable in ``feats``: the official backward pass reaches ``h`` through the perturbed ``W + eps_c``
        (the ``W^T`` its forward saved is a view of the perturbed values, which the restore does not touch).
    """
    dtype = torch.promote_types(batch_feats.dtype, torch.float32)
    h, hb = feats.to(dtype), batch_feats.detach().to(dtype)
    res = batch_residuals.detach().to(dtype)
    params = [weight.detach().to(dtype)] + ([] if bias is None else [bias.detach().to(dtype)])
    num_params = sum(p.numel() for p in params)
    param_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p) for p in params])) \
        + _PARAM_NORM_EPS
    num_classes = weight.size(0)
    batch_labels = batch_labels.long()
    labels = labels.long()
    same = (batch_labels[:, None] == batch_labels[None, :]).to(dtype)  # (M, M)
    res_gram = res @ res.T
    # per class: |sum_{i in c} R_i h_i^T|^2 and |sum_{i in c} R_i|^2
    sq_w = torch.zeros(num_classes, dtype=dtype, device=h.device).index_add_(
        0, batch_labels, (same * res_gram * (hb @ hb.T)).sum(dim=1))
    sq_b = torch.zeros(num_classes, dtype=dtype, device=h.device).index_add_(0, batch_labels,
                                                                             (same * res_gram).sum(dim=1))
    query_same = (labels[:, None] == batch_labels[None, :]).to(dtype)  # (B, M)
    m = query_same.sum(dim=1)  # m_c of each sample's class
    counts = class_counts.to(device=h.device, dtype=dtype)[labels]
    shift = torch.zeros(h.size(0), num_classes, dtype=dtype, device=h.device)
    terms = [(sq_w, (query_same * (h @ hb.T)) @ res)]
    if bias is not None:
        terms.append((sq_b, query_same @ res))
    for sq, summed in terms:  # summed_j = sum_{i in c(j)} (h_i . h_j) R_i, or sum_{i in c(j)} R_i
        norm = sq[labels].clamp_min(0).sqrt() / m  # |g_{c,p}| of each sample's class
        nonzero = norm > 0
        safe = torch.where(nonzero, norm, torch.ones_like(norm))
        rho = class_conditional_rho(counts, safe, param_norm, num_params, noise_ratio)
        coef = torch.where(nonzero, rho * math.sqrt(num_params) / safe / m, torch.zeros_like(norm))
        shift = shift + coef[:, None] * summed
    return shift


def adversarial_class_weights(class_counts: Counts, div: float = 2.0) -> torch.Tensor:
    """Stage 2's class weights ``w_c = ln(n_max / n_c + 0.01) / div`` (official ``pre_compute_class_ratio``,
    ``utils/utils.py`` line 102; ``div`` 2.0 in ``configs/Cifar100.json``), float32 (C,), computed in float64.
    CIFAR-100-LT IF100: 0.005 for the head class (500 images), 2.303 for the tail (5 images)."""
    n = check_counts(class_counts, 1, 'CC-SAM stage 2 (w_c = ln(n_max / n_c + 0.01) / div)')
    if not div > 0:
        raise ValueError(f'div must be positive, got {div}')
    return (torch.log(n.max() / n + 0.01) / div).float()


def ccsam_feature_shift(feat_grads: torch.Tensor, labels: torch.Tensor, class_sq_norms: torch.Tensor,
                        class_weights: torch.Tensor, adv_strength: float = 1.0) -> torch.Tensor:
    """Stage 2: the class-conditional adversarial move of each feature (official ``train_sample``, lines 67-79).

    For class ``c``, ``G = d L_c / d h`` (``L_c`` the mean loss of its batch samples) is non-zero only on class-c rows,
    where it is ``(1/m_c) W^T R_i``; it is normalised by its Frobenius norm over the whole batch, so the ``1/m_c``
    cancels and ``h'_i = h_i + adv_strength * w_c * W^T R_i / sqrt(sum_{k in c} |W^T R_k|^2)``.

    Args:
        feat_grads: ``W^T R_i`` of each sample (N, D).
        labels: (N,).
        class_sq_norms: ``sum_{k in c} |W^T R_k|^2`` of every class over the batch (under DDP: the global batch),
            (C,); a class with zero norm is not moved (official: 0 / 0 = NaN).
        class_weights: ``w_c`` (C,), see :func:`adversarial_class_weights`.
        adv_strength: official ``adver_reg``. Default 1 (``configs/Cifar100.json``).

    Returns:
        the move (N, D), a constant (no gradient flows through it).
    """
    labels = labels.long()
    norm = class_sq_norms.to(feat_grads.dtype)[labels].clamp_min(0).sqrt()
    nonzero = norm > 0
    scale = torch.where(nonzero, adv_strength * class_weights.to(feat_grads)[labels]
                        / torch.where(nonzero, norm, torch.ones_like(norm)), torch.zeros_like(norm))
    return scale[:, None] * feat_grads


def adversarial_ratio(epoch: int, num_epochs: int = 30, max_ratio: float = 0.3) -> float:
    """Stage 2's weight of the adversarial loss in 0-indexed stage-2 epoch ``e``: ``min((e + 1) / E2, max_ratio)``
    (official ``train_sample`` lines 65-66, ``(epoch - stage + 1) / (max_epoch - stage)`` capped at ``up_limit``;
    CIFAR-100: E2 = 230 - 200 = 30, ``up_limit`` 0.3, so 1/30, 2/30, ... 0.3 from the ninth epoch on)."""
    return min((epoch + 1) / num_epochs, max_ratio)


def _gather_rows(t: torch.Tensor) -> torch.Tensor:
    """Concatenate the rows of ``t`` from every rank (rank order); ranks may hold different numbers of rows."""
    if dist.get_world_size() == 1:
        return t
    sizes = torch.cat(dist.all_gather(torch.tensor([t.size(0)], device=t.device)))
    padded = t.new_zeros((int(sizes.max()),) + tuple(t.shape[1:]))
    padded[:t.size(0)] = t
    return torch.cat([part[:int(n)] for part, n in zip(dist.all_gather(padded), sizes)])


@register_into('MODELS', scopes=('mmpretrain',))
class CCSAMClsHead(LinearClsHead):
    """A linear classifier trained with CC-SAM: stage 1 (``stage=1``) or stage 2 (``stage=2``). Its parameters are
    ``LinearClsHead``'s (``fc``): checkpoints load in both directions, and prediction is the plain linear classifier.

    **Stage 1** (official ``train``, epochs 0-199 on CIFAR): the whole network trains, with mixup (mmpretrain's
    ``Mixup`` batch augment, alpha 1.0, and ``CrossEntropyLoss(use_soft=True)``: official ``mixup_data`` /
    ``mixup_criterion``). With ``l_i^ori`` the head's loss of sample ``i`` (``loss``, per sample), ``y_i`` its
    **un-mixed** label (``gt_label``), ``theta = (W, b)`` the classifier and ``eps_c`` the class-conditional
    perturbation of :func:`ccsam_logit_shift` (per-class radius :func:`class_conditional_rho`, from the training
    counts and the batch's class-c gradient of ``l^ori`` grouped by ``y``)::

        l_i^flat = CE((W + eps_{y_i,W}) h_i + b + eps_{y_i,b}, y_i)
        L = (1 - flat_ratio) * mean_i l_i^ori + flat_ratio * mean_i l_i^flat      (logged as loss_ori, loss_flat)

    ``eps`` is a constant: the flat term's gradient is taken at ``theta + eps`` and applied to ``theta`` (SAM's
    descent step), and reaches the backbone through ``h`` and the perturbed ``W + eps_{y_i,W}``, as in the official
    backward pass (which runs after ``theta`` is restored, but on the perturbed ``W^T`` its forward saved). The
    flat loss uses the un-mixed label, as the official code does. Only the classifier is perturbed (the paper's
    abstract also perturbs the feature extractor; the code does not).

    **Stage 2** (official ``train_sample``, epochs 200-229): the stage-1 model is loaded, the backbone frozen with
    BatchNorm in train mode (``DecoupledStageHook``), the classifier trained alone with class-aware sampling and no
    mixup. With ``w_c`` from :func:`adversarial_class_weights` and ``h'`` from :func:`ccsam_feature_shift`::

        l_i^adv = w_{y_i} * CE(W h'_i + b, y_i)
        L = (1 - a_e) * mean_i l_i^ori + a_e * mean_i l_i^adv,  a_e = min((e + 1) / adv_epochs, max_adv_ratio)

    (logged as loss_ori, loss_adv). The stage-2 epoch ``e`` comes from ``set_epoch``, which ``LossEpochHook`` calls
    before every epoch (also after a resume): the head keeps no state of its own.

    The extra terms are computed in float32 with autocast off. Per step, stage 1 costs one classifier-sized Gram
    computation over the (global) batch on top of the usual forward/backward; stage 2 one more classifier forward.

    Deviations from the official code:

    - the per-class perturbation is computed in closed form (one set of batched matrix products) instead of a
      Python loop of ``autograd.grad`` / in-place perturbation / forward / deep-copy restore per class; same values
      and gradients;
    - a class whose batch gradient is exactly zero is left unperturbed (official: NaN);
    - a class with fewer than 2 training images raises a ValueError at build in stage 1 (official: division by
      zero, ``(n_c - 1)^(1/4)``); in stage 2 a class without images does;
    - under DDP the per-class gradients and norms are those of the global batch (all-gathered / all-reduced,
      ``sync=True``), as the official ``nn.DataParallel`` computes them on the gathered batch;
    - ``l^ori`` is the head's configured loss per sample (``reduction_override='none'``); the official code uses
      softmax cross-entropy (with mixup in stage 1), which is what every ltmm CC-SAM config sets.

    Args:
        num_classes: ``C``.
        in_channels: feature dimension ``D``.
        class_stats: training class counts (anything ``ltmm.core.class_stats.load_class_stats`` accepts), checked
            against ``num_classes``.
        stage: 1 or 2. Default 1.
        noise_ratio: stage 1's ``r`` in the radius. Default 1e-6 (``configs/Cifar100.json`` ``noise_ratio``).
        flat_ratio: stage 1's ``phi``. Default 0.5 (``configs/Cifar100.json``; ``Cifar10.json`` uses 0.3).
        adv_strength: stage 2's ``adver_reg``. Default 1.0 (both configs).
        weight_div: stage 2's ``div`` in ``w_c``. Default 2.0 (both configs).
        max_adv_ratio: stage 2's ``up_limit``. Default 0.3 (``Cifar100.json``; ``Cifar10.json`` uses 1.0).
        adv_epochs: stage 2's length ``max_epoch - stage`` in the ramp of ``a_e``. Default 30 (230 - 200).
        sync: gather the batch over ranks for the per-class gradients and norms. Default True.
        **kwargs: ``loss`` (default ``CrossEntropyLoss``; ``use_soft=True`` with mixup), ``topk``, ``cal_acc``,
            ``init_cfg`` of mmpretrain's ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, class_stats: ClassStatsLike, stage: int = 1,
                 noise_ratio: float = 1e-6, flat_ratio: float = 0.5, adv_strength: float = 1.0,
                 weight_div: float = 2.0, max_adv_ratio: float = 0.3, adv_epochs: int = 30, sync: bool = True,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels,
                         **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        if stage not in STAGES:
            raise ValueError(f'CCSAMClsHead: stage must be one of {STAGES}, got {stage!r}')
        if not (noise_ratio >= 0 and math.isfinite(noise_ratio)):
            raise ValueError(f'CCSAMClsHead: noise_ratio must be a finite number >= 0, got {noise_ratio}')
        if not 0 <= flat_ratio <= 1:
            raise ValueError(f'CCSAMClsHead: flat_ratio must be in [0, 1], got {flat_ratio}')
        if not (adv_strength >= 0 and math.isfinite(adv_strength)):
            raise ValueError(f'CCSAMClsHead: adv_strength must be a finite number >= 0, got {adv_strength}')
        if not 0 <= max_adv_ratio <= 1:
            raise ValueError(f'CCSAMClsHead: max_adv_ratio must be in [0, 1], got {max_adv_ratio}')
        if not (isinstance(adv_epochs, int) and adv_epochs >= 1):
            raise ValueError(f'CCSAMClsHead: adv_epochs must be an integer >= 1, got {adv_epochs!r}')
        stats = load_class_stats(class_stats, num_classes, allow_zero=True)
        counts = stats.image_count
        self.stage = stage
        self.noise_ratio = float(noise_ratio)
        self.flat_ratio = float(flat_ratio)
        self.adv_strength = float(adv_strength)
        self.max_adv_ratio = float(max_adv_ratio)
        self.adv_epochs = adv_epochs
        self.sync = sync
        self.epoch = 0
        # derived from class_stats at build (not saved: checkpoints hold LinearClsHead's keys only)
        if stage == 1:
            counts = check_counts(counts, 2, 'CC-SAM stage 1 (rho_c ~ (n_c - 1)^(-1/4))')
            self.register_buffer('class_counts', counts.float(), persistent=False)
        else:
            self.register_buffer('class_counts', _float64(counts).float(), persistent=False)
            self.register_buffer('adv_weights', adversarial_class_weights(counts, weight_div), persistent=False)

    def set_epoch(self, epoch: int) -> None:
        """The 0-indexed epoch of this run (``LossEpochHook``): stage 2's ramp of ``a_e``."""
        self.epoch = int(epoch)

    @property
    def adv_ratio(self) -> float:
        """Stage 2's ``a_e`` at the current epoch."""
        return adversarial_ratio(self.epoch, self.adv_epochs, self.max_adv_ratio)

    def _targets(self, data_samples: List[DataSample]) -> Tuple[torch.Tensor, torch.Tensor]:
        """(targets of the loss: ``gt_score`` under mixup, else ``gt_label``; the un-mixed labels)."""
        if not all('gt_label' in s for s in data_samples):
            raise ValueError('CCSAMClsHead needs the gt_label of every sample (the un-mixed label groups the classes)')
        labels = torch.cat([s.gt_label for s in data_samples])
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples]), labels
        return labels, labels

    def _per_sample(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = self.loss_module(logits, target, reduction_override='none')
        if loss.shape != logits.shape[:1]:
            raise ValueError(f'CCSAMClsHead needs a per-sample loss (reduction_override="none" of shape (N,)); '
                             f'{type(self.loss_module).__name__} returned shape {tuple(loss.shape)}')
        return loss

    def _residuals(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``R_i = d l_i^ori / d z_i`` in float32 on a detached copy (no graph of the model is touched)."""
        with torch.enable_grad():
            z = _fp32(logits.detach()).requires_grad_(True)
            return torch.autograd.grad(self._per_sample(z, target).sum(), z)[0]

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> dict:
        if kwargs:
            raise ValueError(f'CCSAMClsHead.loss takes no loss keyword arguments, got {sorted(kwargs)}')
        h = self.pre_logits(feats)
        logits = self.fc(h)
        target, labels = self._targets(data_samples)
        labels = labels.to(h.device)
        with torch.autocast(device_type=h.device.type, enabled=False):
            loss_ori = self._per_sample(_fp32(logits), target)
            residuals = self._residuals(logits, target)
            if self.stage == 1:
                losses = self._stage1_loss(h, logits, labels, residuals, loss_ori)
            else:
                losses = self._stage2_loss(h, labels, residuals, loss_ori)
        if self.cal_acc:  # as mmpretrain's ClsHead
            if target.ndim != 1:
                raise ValueError('CCSAMClsHead: cal_acc is pointless with batch augmentations such as mixup')
            acc = Accuracy.calculate(logits, target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses

    def _stage1_loss(self, h: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, residuals: torch.Tensor,
                     loss_ori: torch.Tensor) -> dict:
        feats = _fp32(h.detach())
        batch = torch.cat([feats, residuals, labels[:, None].to(feats)], dim=1)
        if self.sync:
            batch = _gather_rows(batch)
        d, c = feats.size(1), residuals.size(1)
        shift = ccsam_logit_shift(_fp32(h), labels, batch[:, :d], batch[:, d:d + c], batch[:, d + c].round().long(),
                                  self.fc.weight.detach(), None if self.fc.bias is None else self.fc.bias.detach(),
                                  self.class_counts, self.noise_ratio)
        loss_flat = F.cross_entropy(_fp32(logits) + shift, labels, reduction='none')
        return dict(loss_ori=(1.0 - self.flat_ratio) * loss_ori.mean(), loss_flat=self.flat_ratio * loss_flat.mean())

    def _stage2_loss(self, h: torch.Tensor, labels: torch.Tensor, residuals: torch.Tensor,
                     loss_ori: torch.Tensor) -> dict:
        weight = _fp32(self.fc.weight)
        feat_grads = residuals @ weight.detach()  # W^T R_i
        class_sq = feat_grads.new_zeros(self.num_classes).index_add_(0, labels, feat_grads.pow(2).sum(1))
        if self.sync:
            dist.all_reduce(class_sq, op='sum')
        shift = ccsam_feature_shift(feat_grads, labels, class_sq, self.adv_weights, self.adv_strength)
        bias = None if self.fc.bias is None else _fp32(self.fc.bias)
        loss_adv = self.adv_weights[labels] * F.cross_entropy(F.linear(_fp32(h) + shift, weight, bias), labels,
                                                              reduction='none')
        ratio = self.adv_ratio
        return dict(loss_ori=(1.0 - ratio) * loss_ori.mean(), loss_adv=ratio * loss_adv.mean())

