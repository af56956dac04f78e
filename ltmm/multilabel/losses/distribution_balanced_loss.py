"""Distribution-Balanced loss (Wu et al., "Distribution-Balanced Loss for Multi-Label Classification in Long-Tailed
Datasets", ECCV 2020), written from the paper's equations and the hyper-parameters of its released configs.

For logits ``z`` (B, C), multi-hot targets ``y`` (B, C), training image counts ``n_i`` of each class and ``N``
training images, the elementwise loss is

    L_ki = s_ki * w_ki * BCE(z'_ki, y_ki),   z'_ki = (z_ki + nu_i) * (y_ki + lambda * (1 - y_ki)),
    w_ki = w^_ki * (y_ki + (1 - y_ki) / lambda),
    s_ki = balance_param * (1 - p_ki)^gamma with p_ki = exp(-BCE(z'_ki, y_ki))   (focal modulation; 1 without),

and the reduction is the mean over B x C. Its three parts can be switched independently (the paper's ablation):

* re-balanced weighting ``w^`` (``reweight``):
  ``'rebalance'``: ``r_ki = (1 / n_i) / sum_j y_kj / n_j`` (for every column, positive or negative) and
  ``w^_ki = sigmoid(map_beta * (r_ki - map_mu)) + map_alpha``; ``'inv'``: ``N / n_i``; ``'sqrt_inv'``:
  ``sqrt(N / n_i)``; ``'CB'``: class-balanced ``(1 - cb_beta) / (1 - cb_beta^n)`` (see ``cb_mode``); None: 1;
* negative-tolerant regularisation (NTR): the class bias ``nu_i = -ntr_kappa * log(N / n_i - 1) / ntr_lambda``
  and the negative logits scaled by ``lambda = ntr_lambda`` with their weight divided by it (the negative term is
  ``(w^ / lambda) * softplus(lambda * z')``). ``ntr_kappa=0, ntr_lambda=1`` switch it off;
* focal modulation (``focal``), computed on the regularised logits and differentiated through ``p``.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from ...cls.losses.base import ClassificationLoss, check_choice
from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from ...core.reweighting import inverse_effective_number

REWEIGHT_MODES = ('rebalance', 'inv', 'sqrt_inv', 'CB')
CB_MODES = ('by_class', 'average_n', 'average_w', 'min_n')


def rebalance_weight(label: torch.Tensor, class_counts: torch.Tensor, alpha: float = 0.1, beta: float = 10.0,
                     mu: float = 0.3) -> torch.Tensor:
    """Re-balanced weights ``sigmoid(beta * (r - mu)) + alpha`` with ``r_ki = (1 / n_i) / sum_j y_kj / n_j``.

    ``r_ki`` is the ratio of the class-level sampling probability of class ``i`` to the instance-level probability
    of sample ``k`` under class-aware resampling. A sample without positive label has ``r = inf``, weight
    ``1 + alpha``.

    Args:
        label: (B, C) multi-hot targets.
        class_counts: (C,) training images of each class, all positive.
        alpha, beta, mu: the smoothing map's lift, slope and shift.

    Returns:
        (B, C) weights.
    """
    inv = 1.0 / class_counts
    return torch.sigmoid(beta * (inv / (label * inv).sum(1, keepdim=True) - mu)) + alpha


def cb_weight(label: torch.Tensor, class_counts: torch.Tensor, beta: float = 0.9,
              mode: str = 'average_w') -> torch.Tensor:
    """Class-balanced weights ``(1 - beta) / (1 - beta^n)`` of the DB loss's ``CB`` ablation, unnormalised.

    Modes: ``'by_class'`` one weight per class column (1, C); per sample (B, 1), from the sample's positive
    classes: ``'average_n'`` the weight of their mean count, ``'average_w'`` the mean of their weights,
    ``'min_n'`` the weight of their smallest count. A sample without positive label gets the limit ``1 - beta``
    (the weight of an infinitely frequent class).
    """
    if mode == 'by_class':
        return inverse_effective_number(class_counts, beta).to(label).unsqueeze(0)
    num_pos = label.sum(1, keepdim=True)
    has_pos = num_pos > 0
    if mode == 'average_w':
        weight = (label * inverse_effective_number(class_counts, beta).to(label)).sum(1, keepdim=True)
        weight = weight / num_pos.clamp_min(1e-12)
    else:
        if mode == 'average_n':
            n = (label * class_counts).sum(1, keepdim=True) / num_pos.clamp_min(1e-12)
        elif mode == 'min_n':
            n = torch.where(label > 0, class_counts.expand_as(label), torch.full_like(label, float('inf')))
            n = n.min(1, keepdim=True).values
        else:
            raise ValueError(f'cb_mode must be one of {CB_MODES}, got {mode!r}')
        weight = inverse_effective_number(torch.where(has_pos, n, torch.ones_like(n)), beta).to(label)
    return torch.where(has_pos, weight, torch.full_like(weight, 1.0 - beta))


def ntr_bias(class_counts: torch.Tensor, num_images: int, kappa: float = 0.05,
             lam: float = 5.0) -> torch.Tensor:
    """NTR class bias ``nu_i = -kappa * log(N / n_i - 1) / lam``: the logit at which the initial sigmoid output
    ``1 / (1 + exp(lam * ...))`` approximates the class prior, scaled by ``kappa``.

    Raises:
        ValueError: a class in every training image (``n_i >= N``), where the bias is infinite.
    """
    full = torch.nonzero(class_counts >= num_images).flatten().tolist()
    if kappa != 0 and full:
        raise ValueError(f'NTR bias -log(N/n - 1) is infinite for classes {full}: they are in all N={num_images} '
                         'training images; set ntr_kappa=0')
    if kappa == 0:
        return torch.zeros_like(class_counts)
    return -kappa * torch.log(num_images / class_counts - 1.0) / lam


def distribution_balanced_loss(pred: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                               bias: Optional[torch.Tensor] = None, neg_scale: float = 1.0,
                               gamma: Optional[float] = 2.0, balance_param: float = 2.0) -> torch.Tensor:
    """Elementwise DB loss (B, C), unreduced; see the module docstring for the formula.

    Args:
        pred: (B, C) logits.
        label: (B, C) multi-hot (or soft) targets.
        weight: re-balancing weights broadcastable to (B, C); 1 when None.
        bias: (C,) NTR bias ``nu``; none when None.
        neg_scale: NTR ``lambda`` (1 = no scaling).
        gamma: focal exponent; None switches focal modulation (and ``balance_param``) off.
        balance_param: focal loss multiplier.
    """
    logits = pred if bias is None else pred + bias
    logits = logits * (label + neg_scale * (1.0 - label))
    elem_weight = label + (1.0 - label) / neg_scale
    if weight is not None:
        elem_weight = elem_weight * weight
    bce = F.binary_cross_entropy_with_logits(logits, label, reduction='none')
    loss = elem_weight * bce
    if gamma is not None:
        loss = balance_param * (1.0 - torch.exp(-bce)).pow(gamma) * loss
    return loss


@register_into('MODELS', scopes=('mmpretrain', 'mmdet'))
class DistributionBalancedLoss(ClassificationLoss):
    """Distribution-Balanced loss (ECCV 2020) for multi-label classification on long-tailed data.

    Defaults are the released DB-Focal configuration (VOC-LT; COCO-MLT uses ``map_mu=0.2, ntr_lambda=2.0``). It is
    meant to be paired with class-aware resampling (``ClassAwareSampler(num_samples_cls=3, reduce=4)``), which the
    re-balanced weights correct. Computed in float32 under AMP. Registered in mmpretrain's MODELS and, where mmdet
    is installed, in mmdet's (labels ``(B,)`` with ``C`` for "no class" then give all-negative rows).

    Args:
        class_stats: training statistics (``ltmm.core.class_stats``): ``image_count`` gives ``n_i`` (images holding
            class ``i``), ``num_images`` gives ``N``. Every class needs ``n_i >= 1``.
        num_classes: when given, ``class_stats`` must describe this many classes.
        reweight: ``'rebalance'`` (default), ``'inv'``, ``'sqrt_inv'``, ``'CB'`` or None (no re-weighting).
        focal: apply the focal modulation. Default True.
        gamma: focal exponent. Default 2.0.
        balance_param: focal multiplier. Default 2.0.
        map_alpha: lift of the re-balancing map. Default 0.1.
        map_beta: slope of the re-balancing map. Default 10.0.
        map_mu: shift of the re-balancing map. Default 0.3 (VOC-LT; 0.2 for COCO-MLT).
        ntr_kappa: NTR bias scale ``kappa``. Default 0.05; 0 means no bias.
        ntr_lambda: NTR negative logit scale ``lambda``. Default 5.0 (VOC-LT; 2.0 for COCO-MLT); 1 means no scaling.
        cb_beta: ``beta`` of the ``'CB'`` weights. Default 0.9.
        cb_mode: ``'by_class'``, ``'average_n'``, ``'average_w'`` (default) or ``'min_n'``; see :func:`cb_weight`.
        reduction: ``'mean'`` (over B x C, default), ``'sum'`` or ``'none'``.
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 reweight: Optional[str] = 'rebalance', focal: bool = True, gamma: float = 2.0,
                 balance_param: float = 2.0, map_alpha: float = 0.1, map_beta: float = 10.0, map_mu: float = 0.3,
                 ntr_kappa: float = 0.05, ntr_lambda: float = 5.0, cb_beta: float = 0.9, cb_mode: str = 'average_w',
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        if reweight is not None:
            check_choice('reweight', reweight, REWEIGHT_MODES)
        check_choice('cb_mode', cb_mode, CB_MODES)
        if ntr_lambda <= 0:
            raise ValueError(f'ntr_lambda must be positive, got {ntr_lambda}')
        self.num_images = int(self.stats.num_images)
        self.reweight = reweight
        self.focal = focal
        self.gamma = gamma
        self.balance_param = balance_param
        self.map_alpha, self.map_beta, self.map_mu = map_alpha, map_beta, map_mu
        self.ntr_kappa, self.ntr_lambda = ntr_kappa, ntr_lambda
        self.cb_beta, self.cb_mode = cb_beta, cb_mode
        self.register_buffer('logit_bias', ntr_bias(self.class_counts, self.num_images, ntr_kappa, ntr_lambda),
                             persistent=False)

    def rebalancing_weight(self, label: torch.Tensor) -> Optional[torch.Tensor]:
        """Re-weighting term ``w^`` for multi-hot ``label`` (B, C), broadcastable to (B, C); None for no weight."""
        if self.reweight == 'rebalance':
            return rebalance_weight(label, self.class_counts, self.map_alpha, self.map_beta, self.map_mu)
        if self.reweight in ('inv', 'sqrt_inv'):
            ratio = (self.num_images / self.class_counts).unsqueeze(0)
            return ratio.sqrt() if self.reweight == 'sqrt_inv' else ratio
        if self.reweight == 'CB':
            return cb_weight(label, self.class_counts, self.cb_beta, self.cb_mode)
        return None

    def targets(self, label: torch.Tensor) -> torch.Tensor:
        """(B, C) multi-hot or soft targets (as mmpretrain's multi-label heads pass them), or (B,) class indices in
        ``[0, C]`` where ``C`` means "no class" (an all-negative row)."""
        if label.dim() == 1 and not label.is_floating_point():
            return F.one_hot(label.long(), self.num_classes + 1)[:, :self.num_classes].float()
        if label.dim() != 2 or label.size(1) != self.num_classes:
            raise ValueError(f'DistributionBalancedLoss: label shape {tuple(label.shape)} is neither (B, '
                             f'{self.num_classes}) targets nor (B,) class indices')
        return label.float()

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """The element-wise loss (B, C); the mean divides by ``B x C`` (``avg_factor * C`` with mmpretrain's
        ``avg_factor = B``)."""
        return distribution_balanced_loss(logits, target, self.rebalancing_weight(target), self.logit_bias,
                                          self.ntr_lambda, self.gamma if self.focal else None, self.balance_param)
