"""TLC: evidential experts, Dempster-Shafer expert weights and their batch fusion, and the evidential loss (Li et al.,
"Trustworthy Long-Tailed Classification", CVPR 2022; official code lblaoke/TLC, no licence file: ltmm re-implements
it from its maths)."""
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, check_choice
from .ldam_loss import ldam_margins
from .ride_loss import diversity_temperatures

FUSION_NORMALIZE = ('batch', 'experts')


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def dempster_shafer_weights(expert_logits: torch.Tensor) -> torch.Tensor:
    """TLC's expert weights ``w``, shape (N, K + 1), in float32 (``model/ResnetCifar.py`` ``forward``, ``self.w``).

    Expert ``k`` (logits ``z_k``) is a subjective opinion: evidence ``e_k = exp(z_k)``, Dirichlet ``alpha_k = e_k +
    1``, strength ``S_k = sum_c alpha_kc``, belief ``b_k = e_k / S_k`` and uncertainty ``u_k = C / S_k``. Then::

        w_0 = 1,   w_1 = u_0,   w_{k+1} = w_k * u_k / (1 - Gamma_k)   (k >= 1)
        Gamma_k = sum_{i != j} b_{k-1,i} b_{k,j}                      (the conflict of experts k - 1 and k)

    ``w_k`` (the uncertainty left after experts ``0..k-1``, Dempster's rule) lies in (0, 1]; ``w_K`` is the
    uncertainty of the whole ensemble. As ``sum_c b_kc = 1 - u_k``, ``1 - Gamma_k = u_{k-1} + u_k - u_{k-1} u_k +
    b_{k-1} . b_k``: that sum of non-negative terms is what is computed here. The official code forms ``Gamma`` from
    the (N, C, C) outer product and subtracts it from 1 in float32, which rounds to 0 (an infinite weight) when two
    confident experts disagree, and needs N * C^2 memory; the value is otherwise the same.

    Args:
        expert_logits: (N, K, C) expert logits (already scaled, ``z = 30 cos``; ``exp`` in float32 needs them
            below about 88).
    """
    logits = expert_logits.float()
    evidence = logits.exp()
    strength = evidence.sum(dim=2) + logits.size(2)  # S_k = sum_c (e_kc + 1)
    belief = evidence / strength.unsqueeze(2)
    uncertainty = logits.size(2) / strength  # (N, K)
    weights = [logits.new_ones(logits.size(0)), uncertainty[:, 0]]
    for k in range(1, logits.size(1)):
        u_prev, u = uncertainty[:, k - 1], uncertainty[:, k]
        agreement = u_prev + u - u_prev * u + (belief[:, k - 1] * belief[:, k]).sum(dim=1)  # 1 - Gamma_k
        weights.append(weights[-1] * u / agreement)
    return torch.stack(weights, dim=1)


def _batch_sum(values: torch.Tensor, sync: bool) -> torch.Tensor:
    """``values.sum(dim=0)``, over the samples of every rank when ``sync`` (differentiable towards this rank's own)."""
    local = values.sum(dim=0)
    if not (sync and _distributed()):
        return local
    total = local.detach().clone()
    dist.all_reduce(total)
    return local + (total - local.detach())


def evidential_fusion(expert_logits: torch.Tensor, eta: float = 0.2, normalize: str = 'batch',
                      sync: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """TLC's fused prediction ``z_hat = sum_k omega_k * z_k`` and the expert weights ``w`` it comes from.

    ``normalize='batch'`` (official, ``model/ResnetCifar.py`` ``forward``: ``exp_w``): ``omega_ki = exp(w_ki / eta)
    / sum_{i'} exp(w_ki' / eta)``, a softmax over the **samples of the batch**, one per expert, so a prediction
    depends on the other samples of its batch and ``z_hat`` is about ``N`` times smaller than the expert logits
    (``w_0 = 1`` gives expert 0 the weight ``1 / N``). ``sync=True`` takes the sum over the samples of every rank, so
    that ranks holding the parts of one batch (``DefaultSampler`` deals sample ``j`` to rank ``j % world_size``, so
    the ranks' i-th batches of ``b`` samples make up one contiguous block of ``world_size * b``) fuse as one process
    with that batch does. ``normalize='experts'`` (not in the official code) takes the softmax over the ``K``
    experts of each sample instead: a convex combination of the expert logits that no other sample changes.

    Args:
        expert_logits: (N, K, C) expert logits.
        eta: the temperature ``eta`` (``reweight_temperature``: 0.2 for the official CIFAR network, 0.5 for its
            ImageNet ResNet-50).
        normalize: 'batch' (official) or 'experts'.
        sync: with 'batch', normalise over the samples of all ranks (True) or of this rank (False).

    Returns:
        ``z_hat`` (N, C) and ``w`` (N, K + 1) (see :func:`dempster_shafer_weights`), float32.
    """
    weights = dempster_shafer_weights(expert_logits)
    scores = torch.exp(weights[:, :-1] / eta)  # w lies in (0, 1]: at most e^50 for eta >= 0.02
    if normalize == 'batch':
        omega = scores / _batch_sum(scores, sync)
    else:
        omega = scores / scores.sum(dim=1, keepdim=True)
    return (omega.unsqueeze(2) * expert_logits.float()).sum(dim=1), weights


def check_fusion(eta: float, normalize: str) -> None:
    """A ValueError naming a bad argument of :func:`evidential_fusion`."""
    check_choice('normalize', normalize, FUSION_NORMALIZE)
    if not eta >= 0.02:
        raise ValueError(f'eta must be >= 0.02 (exp(w / eta) with w <= 1 must stay finite in float32), got {eta}')


def dirichlet_kl_to_uniform(alpha: torch.Tensor) -> torch.Tensor:
    """``KL(Dir(alpha) || Dir(1, ..., 1))`` per row of ``alpha`` (N, C), in float64::

        lnGamma(S) - lnGamma(C) - sum_j lnGamma(alpha_j) + sum_j (alpha_j - 1) (psi(alpha_j) - psi(S)),  S = sum alpha
    """
    alpha = alpha.double()
    strength = alpha.sum(dim=1, keepdim=True)
    return (torch.lgamma(strength).squeeze(1) - torch.lgamma(alpha.new_tensor(float(alpha.size(1))))
            - torch.lgamma(alpha).sum(dim=1)
            + ((alpha - 1) * (torch.digamma(alpha) - torch.digamma(strength))).sum(dim=1))


def tlc_loss_terms(expert_logits: torch.Tensor, fused: torch.Tensor, target: torch.Tensor, margins: torch.Tensor,
                   s: float, class_weight: Optional[torch.Tensor], kl_weight: float, temperature: torch.Tensor,
                   diversity_factor: float = -0.01) -> torch.Tensor:
    """Per-sample, per-expert terms of TLC's loss (``model/loss.py`` ``TLCLoss.forward``), shape (N, K), float32.
    For expert ``k`` and sample ``i`` with label ``y``::

        z~    = z_k - s * m_y * onehot(y)                                         (LDAM margin on the target)
        e~    = exp(z~)                                                           (no + 1, unlike the forward)
        cls   = w_y * (-log(e~_y / sum_c e~_c))                                    (w: DRW weights, or 1)
        kl    = kl_weight * KL(Dir(onehot(y) + (1 - onehot(y)) (e~ + 1)) || Dir(1))   (target evidence removed)
        div   = diversity_factor * mean(T)^2 * KL(softmax(z_hat / T).detach() || softmax(z_k / T))
        l_ik  = cls + kl + div

    Args:
        expert_logits: (N, K, C) expert logits, already scaled by ``s``.
        fused: (N, C) fused logits ``z_hat`` (:func:`evidential_fusion`), the diversity target (no gradient).
        target: (N,) class indices.
        margins: (C,) LDAM margins ``m``.
        s: the logit scale (the margin on the scaled logits is ``s * m``).
        class_weight: (C,) class weights ``w`` or None.
        kl_weight: the annealing coefficient of the evidential KL term.
        temperature: the diversity temperature ``T``, a scalar or (C,).
        diversity_factor: weight of the diversity KL; negative pushes each expert away from ``z_hat``.
    """
    logits = expert_logits.float()
    onehot = F.one_hot(target, logits.size(2)).to(logits.dtype).unsqueeze(1)  # (N, 1, C)
    margined = logits - s * margins.to(logits) * onehot
    cls = -(F.log_softmax(margined, dim=2) * onehot).sum(dim=2)
    if class_weight is not None:
        cls = cls * class_weight.to(logits)[target].unsqueeze(1)
    alpha = onehot + (1 - onehot) * (margined.exp() + 1)
    kl = dirichlet_kl_to_uniform(alpha.flatten(0, 1)).view_as(cls).to(logits.dtype)
    temperature = temperature.to(logits)
    with torch.no_grad():
        ensemble = F.softmax(fused.float() / temperature, dim=1).unsqueeze(1).expand_as(logits)
    div = F.kl_div(F.log_softmax(logits / temperature, dim=2), ensemble, reduction='none').sum(dim=2)
    return cls + kl_weight * kl + diversity_factor * temperature.mean() ** 2 * div


@register_into('MODELS', scopes=('mmpretrain',))
class TLCLoss(ClassificationLoss):
    """TLC's loss for the (N, K, C) expert logits of ``MultiExpertClsHead(fusion=dict(type='evidential'))``
    (Li et al., "Trustworthy Long-Tailed Classification", CVPR 2022; lblaoke/TLC ``model/loss.py``, commit 204f50b9).

    For every expert ``k`` the per-sample loss ``l_ik`` of :func:`tlc_loss_terms` (LDAM-margined evidential
    cross-entropy with DRW weights, the annealed KL of the non-target evidence to the uniform Dirichlet, and a
    RIDE-style diversity term against the fused prediction), averaged over the samples the expert engages::

        L = sum_k  sum_i m_ki l_ik / sum_i m_ki,     m_ki = [w_ki / max_i' w_ki' > tau]

    with ``w`` the Dempster-Shafer weights of :func:`dempster_shafer_weights`: expert 0 (``w_0 = 1``) trains on
    every sample, a later expert only on the samples its predecessors left uncertain relative to the most uncertain
    sample of the batch (dynamic expert engagement; ``l -> (w * l).sum() / w.sum()`` in the official code). The
    engagement is a training-time mask only: the official test runs every expert on every sample (no early exit).

    Schedules (epochs told by ``LossEpochHook``, 0-indexed; the official trainer counts from 1):

    - KL annealing: the KL term is weighted ``(epoch + 1) / T`` with ``T = (reweight_epoch + annealing) /
      reweight_factor`` (the official ``epoch / self.T``): 13,200 on CIFAR-100-LT (160, 500, 0.05), 29,000 on
      ImageNet-LT (80, 500, 0.02). ``reweight_epoch`` is ``drw.start_epoch``, or -1 without ``drw`` (the official
      default, whose run then fails: its ``_hook_before_epoch`` sets nothing).
    - Deferred re-weighting (``drw=dict(start_epoch=reweight_epoch, beta=0.9999)``, the official ``epoch >
      reweight_epoch`` on 1-indexed epochs): from ``start_epoch`` on, the cross-entropy term is weighted by the
      class-balanced weights ``CB(0.9999)`` (sum = C; a per-sample factor, no renormalisation) and the diversity
      temperature becomes per class, ``T_c = (C pi_c f + 1 - f) / max(...)``; before, ``T = 1``.

    The epoch is a buffer (in checkpoints, as the DRW phase), so a resumed run continues the annealing where it
    stopped; a forward before any ``set_epoch`` is an error (the KL weight would be undefined).

    The engagement threshold and each expert's denominator are batch statistics. The official run is one process
    (one GPU); ``sync=True`` (default) takes the maximum ``w`` and the count of engaged samples over every rank (the
    loss of each rank is its engaged sum over the mean count per rank, so that DDP's mean of the gradients is the
    gradient of the loss of the whole batch), ``sync=False`` each rank's own. On one process both are the same.

    Deviations from the official code (all numerical, none in the method):

    - the evidential KL is evaluated in float64: in float32 (official) ``lnGamma(S)`` and ``sum lnGamma(alpha_j)``
      of evidences up to ``e^30`` cancel catastrophically, so the value and its gradient are noise once a non-target
      logit exceeds about 20 (the official value can even be negative);
    - ``w`` is computed without the cancellation of ``1 - Gamma`` (see :func:`dempster_shafer_weights`);
    - the cross-entropy is ``log_softmax`` of the margined logits, not ``log(exp(z~)) - log(sum exp(z~))``;
    - the counts come from ``class_stats``; a class without training samples raises a ValueError naming it (its
      LDAM margin and CB weight are undefined).

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given (``MultiExpertClsHead`` fills it in).
        max_m: the largest LDAM margin (rarest class). Default 0.5 (``model/loss.py`` line 8).
        s: the logit scale, so the margin on the logits is ``s * m``. Default 30.0 (the hard-coded ``30*batch_m``,
            line 61; the head's ``scale``).
        reweight_factor: ``f`` of the diversity temperature and of ``T``. Default 0.05 (line 8, CIFAR); the
            ImageNet-LT config uses 0.02.
        annealing: the ``annealing`` epochs of ``T``. Default 500 (line 8).
        tau: the engagement threshold on ``w / max w``. Default 0.54 (line 8).
        additional_diversity_factor: weight of the diversity KL. Default -0.01 (the hard-coded ``l -= 0.01 * ...``,
            line 91).
        drw: deferred re-weighting, ``dict(start_epoch=..., beta=0.9999)`` (``reweight_epoch``: 160 on CIFAR-100-LT,
            80 on ImageNet-LT); None: never re-weighted, ``reweight_epoch = -1`` in ``T``. Default None.
        sync: engagement statistics over all ranks (True, default) or per rank (False).
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'mean' only (the engagement mean is a batch statistic).
    """
    multi_expert = True
    supports_drw = True
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, max_m: float = 0.5,
                 s: float = 30.0, reweight_factor: float = 0.05, annealing: float = 500.0, tau: float = 0.54,
                 additional_diversity_factor: float = -0.01, drw: Optional[dict] = None, sync: bool = True,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, drw=drw)
        self._check_reduction('reduction', reduction)
        if max_m < 0 or s <= 0 or not 0 <= tau < 1:
            raise ValueError(f'TLCLoss needs max_m >= 0, s > 0 and 0 <= tau < 1, got max_m={max_m}, s={s}, '
                             f'tau={tau}')
        reweight_epoch = -1 if self.drw is None or self.drw.start_epoch is None else self.drw.start_epoch
        if reweight_factor <= 0 or reweight_epoch + annealing <= 0:
            raise ValueError(f'TLCLoss needs reweight_factor > 0 and reweight_epoch + annealing > 0 (the KL period T), '
                             f'got reweight_factor={reweight_factor}, annealing={annealing}, '
                             f'reweight_epoch={reweight_epoch}')
        self.s = float(s)
        self.tau = float(tau)
        self.additional_diversity_factor = float(additional_diversity_factor)
        self.reweight_factor = float(reweight_factor)
        self.annealing = float(annealing)
        self.sync = bool(sync)
        self.register_buffer('margins', ldam_margins(self.class_counts, max_m), persistent=False)
        self.register_buffer('drw_temperature', diversity_temperatures(self.class_counts, reweight_factor),
                             persistent=False)
        self.register_buffer('epoch', torch.full((), -1, dtype=torch.int64))

    @staticmethod
    def _check_reduction(name: str, reduction: str) -> None:
        if reduction != 'mean':
            raise ValueError(f'TLCLoss: {name}={reduction!r}, but only "mean" is defined (each expert averages over '
                             'the samples it engages, a batch statistic)')

    @property
    def kl_period(self) -> float:
        """``T = (reweight_epoch + annealing) / reweight_factor``, ``reweight_epoch`` the DRW start (-1 without)."""
        reweight_epoch = -1 if self.drw is None or self.drw.start_epoch is None else self.drw.start_epoch
        return (reweight_epoch + self.annealing) / self.reweight_factor

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-indexed; ``LossEpochHook``): the KL weight becomes ``(epoch + 1) / T``."""
        self.epoch.fill_(epoch)

    def kl_weight(self) -> float:
        """The annealing coefficient in force, ``(epoch + 1) / T``."""
        if int(self.epoch) < 0:
            raise RuntimeError('TLCLoss: no epoch set; add LossEpochHook to custom_hooks (or call set_epoch) so that '
                               'the KL annealing knows the epoch')
        return (int(self.epoch) + 1) / self.kl_period

    def temperature(self) -> torch.Tensor:
        """The diversity temperature in force: 1, or the per-class ``T_c`` once DRW is active."""
        one = self.drw_temperature.new_ones(())
        return one if self.drw is None else torch.where(self.drw.active, self.drw_temperature, one)

    def engagement(self, weights: torch.Tensor) -> torch.Tensor:
        """The mask ``w_k / max_i w_k > tau`` (N, K) of the expert weights ``w`` (N, K) (maximum over all ranks
        when ``sync``)."""
        peak = weights.amax(dim=0)
        if self.sync and _distributed():
            dist.all_reduce(peak, op=dist.ReduceOp.MAX)
        return weights / peak > self.tau

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, fused_score: Optional[torch.Tensor] = None,
                weight: Optional[torch.Tensor] = None, avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None, **kwargs) -> torch.Tensor:
        """Args: cls_score (N, K, C) expert logits; label (N,) class indices; fused_score (N, C) the head's fused
        logits (required: ``MultiExpertClsHead(fusion=dict(type='evidential'))`` passes them); weight: must be None
        (no per-sample weighting is defined); avg_factor: not used (each expert divides by its engaged count);
        reduction_override: None or 'mean'."""
        if reduction_override is not None:
            self._check_reduction('reduction_override', reduction_override)
        if weight is not None:
            raise ValueError('TLCLoss: sample weights are not defined (each expert averages over its engaged '
                             'samples); pass weight=None')
        if label.dim() != 1 or label.is_floating_point():
            raise ValueError(f'TLCLoss needs (N,) integer class indices, got shape {tuple(label.shape)} and dtype '
                             f'{label.dtype}')
        logits, _ = self.prepare(cls_score, label)
        if fused_score is None or fused_score.shape != (logits.size(0), logits.size(2)):
            raise ValueError('TLCLoss needs fused_score, the (N, C) fused logits of the experts (its diversity '
                             f'target), got {None if fused_score is None else tuple(fused_score.shape)}; use '
                             "MultiExpertClsHead(fusion=dict(type='evidential', ...))")
        terms = tlc_loss_terms(logits, fused_score.detach(), label.long(), self.margins, self.s, self.class_weight,
                               self.kl_weight(), self.temperature(), self.additional_diversity_factor)
        with torch.no_grad():
            engaged = self.engagement(dempster_shafer_weights(logits)[:, :-1]).to(terms.dtype)
        count = engaged.sum(dim=0)
        if self.sync and _distributed():
            dist.all_reduce(count)
            count = count / dist.get_world_size()
        return self.loss_weight * ((engaged * terms).sum(dim=0) / count).sum()
