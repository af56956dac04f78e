"""RIDE loss: per-expert LDAM-DRW plus a distribution-aware diversity term."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...class_stats import ClassStatsLike
from ...registry import register_into
from .ldam_loss import ldam_margins
from .reweighting import ClassCountLoss


def diversity_temperatures(counts, reweight_factor: float = 0.05) -> torch.Tensor:
    """RIDE's distribution-aware relative temperatures ``t_c = (C pi_c f + 1 - f) / max_k (C pi_k f + 1 - f)``.

    Raises:
        ValueError: when ``f`` makes a temperature non-positive.
    """
    n = torch.as_tensor(counts, dtype=torch.float64)
    t = n.numel() * (n / n.sum()) * reweight_factor + 1.0 - reweight_factor
    t = t / t.max()
    if (t <= 0).any():
        raise ValueError(f'reweight_factor={reweight_factor} is too large: it gives non-positive diversity '
                         'temperatures')
    return t.float()


def ride_loss(expert_logits: torch.Tensor, target: torch.Tensor, margins: torch.Tensor, s: float,
              class_weight: Optional[torch.Tensor], temperature: torch.Tensor, base_loss_factor: float = 1.0,
              diversity_factor: float = -0.2) -> torch.Tensor:
    """RIDE's training loss, summed over the ``K`` experts (frank-xwang/RIDE-LongTailRecognition ``RIDELoss``).

    For each expert ``k`` with logits ``z_k`` (already scaled by ``s``) and the expert mean ``z_bar``::

        L_k = base_loss_factor * CE_w(z_k - s * m_y * onehot(y), y)                    # LDAM (+ DRW weights w)
              + diversity_factor * mean(T)^2 * KL(softmax(z_bar / T).detach() || softmax(z_k / T))

    ``CE_w`` is PyTorch's weighted mean (divided by ``sum_i w_{y_i}``; by N without weights); the KL is averaged
    over the batch (``batchmean``). With ``diversity_factor = 0`` the LDAM term uses ``z_bar`` for every expert, as
    the official code does.

    Args:
        expert_logits: (N, K, C) expert logits, each already multiplied by ``s``.
        target: (N,) class indices.
        margins: (C,) LDAM margins ``m_j``.
        s: the logit scale, so the target logit is lowered by ``s * m_y``.
        class_weight: (C,) DRW class weights, or None.
        temperature: the diversity temperature, a scalar or (C,) per-class tensor.
        base_loss_factor: weight of the LDAM terms.
        diversity_factor: weight of the KL terms; negative (RIDE) pushes experts away from the ensemble.
    """
    if expert_logits.dim() != 3:
        raise ValueError(f'expected expert logits of shape (N, K, C), got {tuple(expert_logits.shape)}')
    logits = expert_logits.float()
    mean_logits = logits.mean(dim=1)
    onehot = F.one_hot(target, logits.size(-1)).to(logits.dtype)
    temperature = temperature.to(logits)
    with torch.no_grad():
        ensemble = F.softmax(mean_logits / temperature, dim=1)
    loss = logits.new_zeros(())
    for k in range(logits.size(1)):
        z = logits[:, k]
        base = mean_logits if diversity_factor == 0 else z
        loss = loss + base_loss_factor * F.cross_entropy(base - s * margins.to(z) * onehot, target,
                                                         weight=class_weight)
        kl = F.kl_div(F.log_softmax(z / temperature, dim=1), ensemble, reduction='batchmean')
        loss = loss + diversity_factor * temperature.mean() ** 2 * kl
    return loss


@register_into('MODELS', scopes=('mmpretrain',))
class RIDELoss(ClassCountLoss):
    """RIDE loss (Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021),
    for the (N, K, C) expert logits of ``MultiExpertClsHead``; see :func:`ride_loss` for the formula.

    Deferred re-weighting, driven by ``DRWHook`` through :meth:`set_class_weight` like ``LDAMLoss``: before the
    hook's milestone the LDAM terms are unweighted and the diversity temperature is ``T0``; from it on they use the
    hook's class-balanced weights (``CB(0.9999)``, sum = C) and the temperature becomes per class,
    ``T_c = T0 * t_c`` (:func:`diversity_temperatures`). This is the official ``epoch > reweight_epoch`` switch
    (1-indexed epochs), i.e. ``DRWHook(milestone=reweight_epoch)``: 160 of 200 epochs on CIFAR-100-LT, 80 on
    ImageNet-LT / iNaturalist. Without ``DRWHook`` the loss never re-weights.

    Normalisation (as the official code): each expert's LDAM term is PyTorch's weighted-mean cross-entropy
    (divided by ``sum_i w_{y_i}``), each KL term is divided by the batch size, and the expert terms are summed (not
    averaged); ``avg_factor`` is therefore not used.

    Args:
        class_stats: training class counts (see :mod:`ltmm.class_stats`); every class needs an image.
        max_m: the largest LDAM margin (rarest class). Default 0.5.
        s: scale of the expert logits (the head's ``scale``), so the margin on the scaled logits is ``s * m``.
            Default 30.0.
        base_loss_factor: weight of the LDAM terms. Default 1.0.
        additional_diversity_factor: weight of the diversity (KL) terms, ``lambda``. Default -0.2 (ImageNet-LT,
            iNaturalist); the CIFAR-100-LT configs use -0.45.
        reweight_factor: ``f`` of the distribution-aware temperature. Default 0.05 (CIFAR); ImageNet-LT uses 0.02,
            iNaturalist 0.015.
        base_diversity_temperature: ``T0``. Default 1.0.
        loss_weight: multiplies the loss. Default 1.0.
    """
    multi_expert = True

    def __init__(self, class_stats: ClassStatsLike, max_m: float = 0.5, s: float = 30.0,
                 base_loss_factor: float = 1.0, additional_diversity_factor: float = -0.2,
                 reweight_factor: float = 0.05, base_diversity_temperature: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, loss_weight=loss_weight)
        if max_m < 0 or s <= 0 or base_diversity_temperature <= 0:
            raise ValueError(f'RIDELoss needs max_m >= 0, s > 0 and base_diversity_temperature > 0, got '
                             f'max_m={max_m}, s={s}, base_diversity_temperature={base_diversity_temperature}')
        self.s = float(s)
        self.base_loss_factor = base_loss_factor
        self.additional_diversity_factor = additional_diversity_factor
        self.base_diversity_temperature = float(base_diversity_temperature)
        self.register_buffer('margins', ldam_margins(self.class_counts, max_m), persistent=False)
        self.register_buffer('drw_temperature', self.base_diversity_temperature
                             * diversity_temperatures(self.class_counts, reweight_factor), persistent=False)
        self.class_weight: Optional[torch.Tensor] = None

    def set_class_weight(self, class_weight: Optional[torch.Tensor]) -> None:
        """DRW switch: per-class weights (C,) turn re-weighting (and the per-class temperature) on, None off."""
        if class_weight is not None:
            class_weight = torch.as_tensor(class_weight, dtype=torch.float32, device=self.class_counts.device)
            if class_weight.shape != self.class_counts.shape:
                raise ValueError(f'class_weight must have shape {tuple(self.class_counts.shape)}, got '
                                 f'{tuple(class_weight.shape)}')
        self.class_weight = class_weight

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """``cls_score``: (N, K, C) expert logits; ``label``: (N,) class indices. ``avg_factor`` is ignored (see
        the class docstring); per-sample ``weight`` and reductions other than 'mean' are not supported."""
        if weight is not None or reduction_override not in (None, 'mean'):
            raise ValueError('RIDELoss supports neither per-sample weights nor reductions other than "mean"')
        if cls_score.dim() != 3 or cls_score.size(2) != self.num_classes:
            raise ValueError(f'RIDELoss: cls_score must be (N, K, C) expert logits with C = {self.num_classes} '
                             f'(class_stats from {self.source}), got {tuple(cls_score.shape)}')
        if label.dim() != 1 or label.is_floating_point():
            raise ValueError(f'RIDELoss needs (N,) integer class indices, got shape {tuple(label.shape)} and dtype '
                             f'{label.dtype}')
        if self.class_weight is None:
            class_weight, temperature = None, torch.tensor(self.base_diversity_temperature)
        else:
            class_weight, temperature = self.class_weight.to(cls_score.device), self.drw_temperature
        return self.loss_weight * ride_loss(cls_score, label.long(), self.margins, self.s, class_weight, temperature,
                                            self.base_loss_factor, self.additional_diversity_factor)
