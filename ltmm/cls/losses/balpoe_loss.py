"""BalPoE: the Balanced Product of Calibrated Experts (Sanchez Aimar et al., "Balanced Product of Calibrated Experts for
Long-Tailed Recognition", CVPR 2023; official code emasa/BalPoE-CalibratedLT, MIT licence, read at commit ca607aed).

Training (``model/loss.py`` ``BSExpertLoss``, lines 8-61): ``K`` experts on RIDE's multi-expert network (each a cosine
classifier x ``s = 30``, the scale applied in the model, so the logits ``z_k`` below already include it), expert ``k``
trained with the logit-adjusted (balanced-softmax family) cross-entropy of its own ``tau_k`` (the paper's lambda),
the losses averaged over the experts::

    L = (1 / K) * sum_k CE(z_k + tau_k * log(pi + 1e-9), y),        pi = n / sum(n)

Expert ``k``'s raw logits then estimate ``log p(x|y) + (1 - tau_k) log pi``: tau 0 is a plain softmax expert (the
training distribution), tau 1 a balanced one, tau 2 an inverse-prior one. The experts' mean, the prediction, has the
prior exponent ``1 - mean(tau)``: balanced for ``mean(tau) = 1`` (the official CIFAR and iNaturalist lists
(0, 1, 2) and (-1, 1, 3)); the official ImageNet-LT list (0, 1.25, 2.5) has mean 1.25 (slightly tail-favouring).

Calibration: input mixup over the whole run (``utils/combiner.py`` ``Combiner.mixup``): one ``lambda ~ Beta(alpha,
alpha)`` per batch, one permutation, ``x = lambda x_a + (1 - lambda) x_b`` and ``L = lambda L(y_a) + (1 - lambda)
L(y_b)``. The loss is linear in the target, so this equals ``L`` of the soft target ``lambda y_a + (1 - lambda) y_b``,
which is what mmpretrain's ``Mixup`` batch augment (``model.train_cfg.augments``) feeds the head: the same mixup.

Prediction (``utils/util.py`` ``adjusted_model_wrapper``, ``test.py``): the mean of the raw expert logits, optionally
plus the logit adjustment of a test-time target (:func:`balpoe_prediction_bias`): the official
``--posthoc_bias_correction`` adds ``log`` of a known test prior to every expert before the mean (``test_prior``);
``test_tau`` moves the ensemble's own prior exponent to that of a chosen test lambda.

Deviations from the official code: ``test_tau`` is an addition (the official code evaluates its trained
``mean(tau)`` only; default None keeps that). Under DDP each rank draws its own mixup lambda and permutation
(mmpretrain's ``Mixup``), where the official ``nn.DataParallel`` draws one for the whole batch: the same distribution
of mixed pairs, not bit-identical. The training accuracy under mixup is not logged (the official logs
``lambda acc(y_a) + (1 - lambda) acc(y_b)``). The unused ``cutmix`` / ``mix_logits`` / ``target_model`` paths of
``Combiner`` are not ported.
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from .base import ClassificationLoss
from .sade_loss import PRIOR_EPS, sade_expert_losses

TargetPrior = Union[None, Sequence[float], ClassStatsLike]


def balpoe_prior(counts) -> torch.Tensor:
    """The training prior ``pi = n / sum(n)``, shape (C,), float32 and normalised in float32 as the official
    ``BSExpertLoss.get_default_bias`` (``torch.tensor(cls_num_list).float()``, then ``prior / prior.sum()``)."""
    n = torch.as_tensor(np.asarray(counts, dtype=np.float64)).float()
    return n / n.sum()


def balpoe_logit_adjustments(counts, tau_list: Sequence[float]) -> torch.Tensor:
    """The additive adjustment of each expert's logits in the loss, ``tau_k * log(pi + 1e-9)``, shape (K, C), float32.

    Args:
        counts: (C,) training counts (zeros allowed: the epsilon keeps the logarithm finite, as the official code).
        tau_list: one tau per expert (any sign).
    """
    log_prior = torch.log(balpoe_prior(counts) + PRIOR_EPS)
    return torch.tensor([float(t) for t in tau_list], dtype=torch.float32)[:, None] * log_prior


def balpoe_expert_losses(expert_logits: torch.Tensor, target: torch.Tensor,
                         adjustments: torch.Tensor) -> torch.Tensor:
    """Per-sample loss ``(1 / K) sum_k CE(z_k + a_k, y)``, shape (N,).

    Args:
        expert_logits: (N, K, C) expert logits (already scaled by ``s``).
        target: (N, C) class probabilities (one-hot, or the mixed targets of mixup).
        adjustments: (K, C) from :func:`balpoe_logit_adjustments`.
    """
    return sade_expert_losses(expert_logits, target, adjustments).mean(dim=1)


def target_prior_counts(test_prior: TargetPrior, num_classes: int) -> Optional[np.ndarray]:
    """A test class distribution as (C,) float64 counts (or probabilities), or None.

    Args:
        test_prior: None; a list of ``C`` non-negative numbers (counts or probabilities); or anything
            :func:`ltmm.core.class_stats.load_class_stats` accepts (its ``image_count``).
        num_classes: ``C``.

    Raises:
        ValueError: a length other than ``C``, a negative or non-finite value, or all zeros.
    """
    if test_prior is None:
        return None
    if isinstance(test_prior, (list, tuple, np.ndarray, torch.Tensor)):
        values = np.asarray(test_prior, dtype=np.float64)
        if values.shape != (num_classes, ):
            raise ValueError(f'test_prior has {values.size} values for {num_classes} classes')
    else:
        values = np.asarray(load_class_stats(test_prior, num_classes, allow_zero=True).image_count, dtype=np.float64)
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        raise ValueError(f'test_prior must be finite, >= 0 and not all zero, got {values.tolist()}')
    return values


def balpoe_prediction_bias(counts, tau_list: Sequence[float], test_tau: Optional[float] = None,
                           test_prior: Optional[np.ndarray] = None) -> Optional[torch.Tensor]:
    """What BalPoE's prediction adds to the mean of the raw expert logits, shape (C,), float32, or None for nothing
    (the official default: ``test.py`` evaluates the plain mean).

    - ``test_tau`` (a test-time lambda): ``(mean(tau) - test_tau) * log(pi + 1e-9)``. The mean of the raw logits
      carries the prior exponent ``1 - mean(tau)``; this gives it ``1 - test_tau``: ``test_tau = 1`` targets the
      uniform (balanced) distribution, 0 the training distribution, ``test_tau = mean(tau)`` adds nothing. Not in the
      official code, which evaluates its trained ``mean(tau)`` only; the paper's test-time lambda.
    - ``test_prior`` (a known test class distribution ``p_t``): ``+ log(p_t / sum(p_t))``, the official
      ``--posthoc_bias_correction`` (``test_all_*.py``: ``test_prior.log()``, no epsilon, so a class absent from the
      test distribution gets ``-inf`` and is never predicted). The official runs combine it with the trained tau list
      (mean 1 on CIFAR / iNaturalist); with ImageNet-LT's mean 1.25, ``test_tau=1`` plus ``test_prior`` targets
      ``p_t`` exactly.

    Both given: the two adjustments add up.

    Args:
        counts: (C,) training counts.
        tau_list: the experts' training taus.
        test_tau: test-time lambda, or None.
        test_prior: (C,) test counts or probabilities (:func:`target_prior_counts`), or None.
    """
    bias = None
    if test_tau is not None:
        tau_mean = float(np.mean([float(t) for t in tau_list]))
        bias = (tau_mean - float(test_tau)) * torch.log(balpoe_prior(counts) + PRIOR_EPS)
    if test_prior is not None:
        p = torch.as_tensor(test_prior, dtype=torch.float32)
        log_p = torch.log(p / p.sum())
        bias = log_p if bias is None else bias + log_p
    return bias


@register_into('MODELS', scopes=('mmpretrain',))
class BalPoELoss(ClassificationLoss):
    """BalPoE's loss for the (N, K, C) expert logits of ``MultiExpertClsHead``: expert ``k`` trained with the
    logit-adjusted cross-entropy ``CE(z_k + tau_k log(pi + 1e-9), y)``, the ``K`` losses averaged (not summed, unlike
    SADE); see the module docstring. Takes soft targets (mmpretrain's mixup ``gt_score``): the head then passes the
    mixed targets, which gives the official mixup loss exactly.

    Normalisation: each sample's expert-mean loss, averaged over the batch (``avg_factor``, the batch size the head
    passes), which equals the official mean over experts of the batch-mean cross-entropies. Each sample's loss is
    independent of the rest of the batch, so DDP training is exact (mixup draws its lambda per rank, see the README).
    No state: the adjustments are non-persistent buffers rebuilt from ``class_stats`` and ``tau_list``.

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); a zero count is allowed, as the
            official ``log(prior + 1e-9)``.
        num_classes: ``C``, checked against ``class_stats`` when given (``MultiExpertClsHead`` fills it in).
        tau_list: one tau (the paper's lambda) per expert; its length is the number of experts. Default (0, 1, 2)
            (``BSExpertLoss.__init__``'s default, ``model/loss.py`` line 14, and the CIFAR configs'
            ``"tau_list": [0, 1.0, 2.0]``, ``configs/mixup/*/config_cifar100_ir100_bs-experts.json``); the
            ImageNet-LT configs use (0, 1.25, 2.5), the iNaturalist 2018 ones (-1, 1, 3). The epsilon 1e-9 is
            ``BSExpertLoss``'s ``eps`` default (line 14), fixed here as in every official config.
        test_tau: test-time lambda of the prediction (:func:`balpoe_prediction_bias`). Default None (the official
            plain mean of the raw expert logits).
        test_prior: a known test class distribution for the prediction, the official ``--posthoc_bias_correction``
            (:func:`target_prior_counts`, :func:`balpoe_prediction_bias`). Default None.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none' (per sample, averaged over experts), 'mean' or 'sum'. Default 'mean'.
    """
    multi_expert = True
    soft_labels = True  # MultiExpertClsHead passes mixup / cutmix targets
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 tau_list: Sequence[float] = (0.0, 1.0, 2.0), test_tau: Optional[float] = None,
                 test_prior: TargetPrior = None, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, allow_zero=True)
        try:
            taus = [float(t) for t in tau_list]
        except (TypeError, ValueError) as e:
            raise ValueError(f'BalPoELoss: tau_list must be a list of numbers, got {tau_list!r}') from e
        if not taus or not np.isfinite(taus).all():
            raise ValueError(f'BalPoELoss: tau_list must hold at least one finite tau, got {tau_list!r}')
        if test_tau is not None and not np.isfinite(float(test_tau)):
            raise ValueError(f'BalPoELoss: test_tau must be finite or None, got {test_tau!r}')
        if self.stats.image_count.sum() <= 0:
            raise ValueError(f'BalPoELoss: class_stats from {self.stats.source} has no training image')
        self.tau_list = taus
        self.test_tau = None if test_tau is None else float(test_tau)
        counts = self.stats.image_count
        self.register_buffer('adjustments', balpoe_logit_adjustments(counts, taus), persistent=False)
        self.register_buffer('prediction_bias', balpoe_prediction_bias(
            counts, taus, self.test_tau, target_prior_counts(test_prior, self.num_classes)), persistent=False)

    @property
    def num_experts(self) -> int:
        return len(self.tau_list)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if logits.size(1) != self.num_experts:
            raise ValueError(f'BalPoELoss has {self.num_experts} taus (tau_list={self.tau_list}) but got expert '
                             f'logits of shape {tuple(logits.shape)}; the head\'s num_experts must equal '
                             'len(tau_list)')
        return balpoe_expert_losses(logits, target, self.adjustments)
