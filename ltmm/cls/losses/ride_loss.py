"""RIDE loss: per-expert LDAM-DRW plus a distribution-aware diversity term."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss
from .ldam_loss import ldam_margins


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


def ride_loss_terms(expert_logits: torch.Tensor, target: torch.Tensor, margins: torch.Tensor, s: float,
                    class_weight: Optional[torch.Tensor], temperature: torch.Tensor, base_loss_factor: float = 1.0,
                    diversity_factor: float = -0.2) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-sample terms of RIDE's training loss (frank-xwang/RIDE-LongTailRecognition ``RIDELoss``), each summed over
    the ``K`` experts. For sample i with expert logits ``z_ik`` (already scaled by ``s``) and the expert mean
    ``z_bar_i``::

        ldam_i = base_loss_factor * w_{y_i} * sum_k CE(z_ik - s * m_{y_i} * onehot(y_i), y_i)        # LDAM (+ DRW)
        div_i  = diversity_factor * mean(T)^2 * sum_k KL(softmax(z_bar_i / T).detach() || softmax(z_ik / T))

    RIDE's loss is ``sum_i ldam_i / sum_i w_{y_i} + sum_i div_i / N``: each expert's LDAM term is PyTorch's
    weighted-mean cross-entropy, each KL term is averaged over the batch (``batchmean``), and the experts' terms
    are summed. With ``diversity_factor = 0`` the LDAM term uses ``z_bar`` for every expert, as the official code.

    Args:
        expert_logits: (N, K, C) expert logits, each already multiplied by ``s``.
        target: (N,) class indices.
        margins: (C,) LDAM margins ``m_j``.
        s: the logit scale, so the target logit is lowered by ``s * m_y``.
        class_weight: (C,) DRW class weights ``w``, or None.
        temperature: the diversity temperature, a scalar or (C,) per-class tensor.
        base_loss_factor: weight of the LDAM terms.
        diversity_factor: weight of the KL terms; negative (RIDE) pushes experts away from the ensemble.

    Returns:
        ``ldam`` and ``div``, both (N,).
    """
    if expert_logits.dim() != 3:
        raise ValueError(f'expected expert logits of shape (N, K, C), got {tuple(expert_logits.shape)}')
    logits = expert_logits.float()
    mean_logits = logits.mean(dim=1)
    onehot = F.one_hot(target, logits.size(-1)).to(logits.dtype).unsqueeze(1)
    temperature = temperature.to(logits)
    base = mean_logits.unsqueeze(1).expand_as(logits) if diversity_factor == 0 else logits
    cross_entropy = -(F.log_softmax(base - s * margins.to(logits) * onehot, dim=-1) * onehot).sum(dim=(1, 2))
    if class_weight is not None:
        cross_entropy = cross_entropy * class_weight.to(logits)[target]
    with torch.no_grad():
        ensemble = F.softmax(mean_logits / temperature, dim=1).unsqueeze(1).expand_as(logits)
    kl = F.kl_div(F.log_softmax(logits / temperature, dim=-1), ensemble, reduction='none').sum(dim=(1, 2))
    return base_loss_factor * cross_entropy, diversity_factor * temperature.mean() ** 2 * kl


@register_into('MODELS', scopes=('mmpretrain',))
class RIDELoss(ClassificationLoss):
    """RIDE loss (Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021),
    for the (N, K, C) expert logits of ``MultiExpertClsHead``; see :func:`ride_loss_terms` for the formula.

    Deferred re-weighting as ``LDAMLoss`` (``drw``, :class:`DeferredReweighting`): before ``start_epoch`` the LDAM
    terms are unweighted and the diversity temperature is ``T0``; from it on they use the class-balanced weights
    (``CB(0.9999)``, sum = C) and the temperature becomes per class, ``T_c = T0 * t_c``
    (:func:`diversity_temperatures`). This is the official ``epoch > reweight_epoch`` switch (1-indexed epochs),
    i.e. ``drw=dict(start_epoch=reweight_epoch)``: 160 of 200 epochs on CIFAR-100-LT, 80 on ImageNet-LT /
    iNaturalist. Without ``drw`` the loss never re-weights.

    Normalisation (as the official code): the LDAM terms are divided by ``sum_i w_{y_i}`` (PyTorch's weighted
    mean; ``normalize='sum_weights'``), the KL terms by ``avg_factor`` (the batch size ``MultiExpertClsHead``
    passes), and the experts' terms are summed, not averaged. Per-sample ``weight`` multiplies both terms (and the
    LDAM denominator); ``reduction='none'`` returns ``ldam_i + div_i``.

    Under DDP the sums are per GPU (as ``LDAMLoss``): each GPU divides its LDAM terms by the ``sum_i w_{y_i}`` of its
    own samples, and DDP averages the gradients. Before DRW (all weights 1) this equals the whole-batch mean; in the
    DRW phase it does not, as the GPUs' weight sums differ, whereas the official code (one GPU on CIFAR-100-LT,
    ``nn.DataParallel`` on ImageNet-LT, which gathers the logits) divides by the sum over the whole batch. The
    one-GPU CIFAR-LT configs (``1xb128``) are exact; the 8-GPU ImageNet-LT configs carry this difference.

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); every class needs an image.
        num_classes: ``C``, checked against ``class_stats`` when given (``MultiExpertClsHead`` fills it in).
        max_m: the largest LDAM margin (rarest class). Default 0.5.
        s: scale of the expert logits (the head's ``scale``), so the margin on the scaled logits is ``s * m``.
            Default 30.0.
        base_loss_factor: weight of the LDAM terms. Default 1.0.
        additional_diversity_factor: weight of the diversity (KL) terms, ``lambda``. Default -0.2 (ImageNet-LT,
            iNaturalist); the CIFAR-100-LT configs use -0.45.
        reweight_factor: ``f`` of the distribution-aware temperature. Default 0.05 (CIFAR); ImageNet-LT uses 0.02,
            iNaturalist 0.015.
        base_diversity_temperature: ``T0``. Default 1.0.
        drw: deferred re-weighting, ``dict(start_epoch=..., beta=0.9999)``; None (default) never re-weights.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """
    multi_expert = True
    supports_drw = True
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, max_m: float = 0.5,
                 s: float = 30.0, base_loss_factor: float = 1.0, additional_diversity_factor: float = -0.2,
                 reweight_factor: float = 0.05, base_diversity_temperature: float = 1.0, drw: Optional[dict] = None,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction,
                         normalize='sum_weights', drw=drw)
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

    def temperature(self) -> torch.Tensor:
        """The diversity temperature in force: ``T0``, or the per-class ``T0 * t_c`` once DRW is active."""
        base = self.drw_temperature.new_tensor(self.base_diversity_temperature)
        return base if self.drw is None else torch.where(self.drw.active, self.drw_temperature, base)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """``cls_score``: (N, K, C) expert logits; ``label``: (N,) class indices; ``weight``: (N,) sample weights;
        ``avg_factor``: the KL terms' denominator (the batch size); ``reduction_override``."""
        if label.dim() != 1 or label.is_floating_point():
            raise ValueError(f'RIDELoss needs (N,) integer class indices, got shape {tuple(label.shape)} and dtype '
                             f'{label.dtype}')
        reduction = self.reduction_mode(reduction_override)
        logits, target = self.prepare(cls_score, label)
        ldam, diversity = ride_loss_terms(logits, label.long(), self.margins, self.s, self.class_weight,
                                          self.temperature(), self.base_loss_factor,
                                          self.additional_diversity_factor)
        return self.loss_weight * (self.reduce(ldam, target, weight, reduction, avg_factor)
                                   + self.reduce(diversity, target, weight, reduction, avg_factor, normalize='batch'))


def ride_distill_terms(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                       temperature: float = 1.5) -> torch.Tensor:
    """Per-sample knowledge-distillation term of RIDE's ``RIDELossWithDistill``
    (frank-xwang/RIDE-LongTailRecognition ``model/loss.py``)::

        kd_i = T^2 * KL( softmax(t_i / T) || softmax(z_i / T) )

    with ``z`` the student's prediction (the mean of its expert logits) and ``t`` the teacher's (the mean of its
    experts'); the teacher's probabilities carry no gradient.

    Args:
        student_logits: (N, C) student logits.
        teacher_logits: (N, C) teacher logits.
        temperature: ``T``. Default 1.5 (every official ``*_distill_ride.json``).

    Returns:
        (N,) terms; the official loss averages them over the batch (``batchmean``).
    """
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f'teacher logits of shape {tuple(teacher_logits.shape)} do not match the student '
                         f'prediction {tuple(student_logits.shape)} (same classes, same batch)')
    if temperature <= 0:
        raise ValueError(f'distillation temperature must be positive, got {temperature}')
    with torch.no_grad():
        teacher = F.softmax(teacher_logits.detach().float() / temperature, dim=1)
    student = F.log_softmax(student_logits.float() / temperature, dim=1)
    return temperature**2 * F.kl_div(student, teacher, reduction='none').sum(dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class RIDEDistillLoss(RIDELoss):
    """RIDE's loss with distillation from a teacher with more experts (Wang et al., ICLR 2021, section 4;
    frank-xwang/RIDE-LongTailRecognition ``model/loss.py`` ``RIDELossWithDistill``, ``trainer/trainer.py``).

    With ``K`` student experts, the student prediction ``z_bar`` (mean of its expert logits) and the teacher's
    prediction ``t`` (:func:`ride_distill_terms`)::

        L = K * ( ride_loss_factor * L_RIDE + distill_factor * mean_i T^2 KL(softmax(t_i / T) || softmax(z_bar_i / T)) )

    ``L_RIDE`` is :class:`RIDELoss` (already summed over the experts). The factor ``K`` is the official code's: its
    loop over the experts adds the complete RIDE loss and the same distillation term once per expert and never uses
    the loop variable, so the whole loss (and, with SGD, the step) is ``K`` times ``L_RIDE + T^2 KL``; this is kept
    (``repeat_per_expert=True``) so the official learning rates train as they do there. The teacher's logits come
    from :class:`ltmm.cls.classifiers.RIDEClassifier` (``teacher=...``), which passes them as ``teacher_score``.

    Args:
        class_stats, num_classes, max_m, s, base_loss_factor, additional_diversity_factor, reweight_factor,
            base_diversity_temperature, drw, loss_weight, reduction: as :class:`RIDELoss`.
        distill_temperature: ``T``. Default 1.5: every official distillation config sets it (the class default
            there is 1.0).
        distill_factor: weight of the distillation term. Default 1.0 (official ``additional_distill_loss_factor``).
        ride_loss_factor: weight of ``L_RIDE``. Default 1.0 (official ``ride_loss_factor``).
        repeat_per_expert: multiply the loss by ``K`` as the official code. Default True.
    """
    uses_teacher = True

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 distill_temperature: float = 1.5, distill_factor: float = 1.0, ride_loss_factor: float = 1.0,
                 repeat_per_expert: bool = True, **kwargs) -> None:
        super().__init__(class_stats, num_classes, **kwargs)
        if distill_temperature <= 0:
            raise ValueError(f'RIDEDistillLoss: distill_temperature must be positive, got {distill_temperature}')
        self.distill_temperature = float(distill_temperature)
        self.distill_factor = distill_factor
        self.ride_loss_factor = ride_loss_factor
        self.repeat_per_expert = repeat_per_expert

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                teacher_score: Optional[torch.Tensor] = None, **kwargs) -> torch.Tensor:
        """``cls_score``: (N, K, C) student expert logits; ``teacher_score``: (N, C) teacher logits (required);
        the other arguments as :meth:`RIDELoss.forward`."""
        if teacher_score is None:
            raise ValueError('RIDEDistillLoss needs the teacher logits (teacher_score); train it with '
                             "RIDEClassifier(teacher=dict(config=..., checkpoint=...))")
        ride = super().forward(cls_score, label, weight, avg_factor, reduction_override)
        reduction = self.reduction_mode(reduction_override)
        _, target = self.prepare(cls_score, label)
        distill = ride_distill_terms(cls_score.float().mean(dim=1), teacher_score, self.distill_temperature)
        distill = self.loss_weight * self.reduce(distill, target, weight, reduction, avg_factor, normalize='batch')
        repeats = cls_score.size(1) if self.repeat_per_expert else 1
        return repeats * (self.ride_loss_factor * ride + self.distill_factor * distill)
