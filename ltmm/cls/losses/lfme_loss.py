"""LFME (Xiang et al., "Learning From Multiple Experts: Self-paced Knowledge Distillation for Long-tailed
Classification", ECCV 2020; xiangly55/LFME, no licence: re-derived from ltmm's research note, nothing copied).

Experts trained on the less-imbalanced class subsets (many ``n >= 100``, medium ``21..99``, few ``n <= 20`` training
images) distill into one student. Per batch, with ``z`` the student logits, ``w_i`` the curriculum instance weight,
``t_s`` expert ``s``'s logits over its subset ``S_s`` and ``alpha_s`` its self-paced weight::

    z'_i = w_i * z_i
    L_i  = CE(z'_i, y_i) + sum_s alpha_s * KL( softmax(t_s,i / T) || softmax(z'_i[S_s] / T) )

averaged over the batch (the official ``KLDivLoss`` element mean times ``|S_s|`` is this batch mean). Every sample
is distilled by every expert on that expert's columns. The self-paced weight (``get_distill_loss_weight`` in
``run_network_LFME.py``), from the expert's accuracy ``A_s`` on its subset and the student's class-mean accuracy
``a_s`` on the same classes in the last validation pass::

    alpha_s = 1                                  if a_s < decay_thresh * A_s
    alpha_s = max(0, (A_s - a_s) / ((1 - decay_thresh) * A_s))   otherwise

The curriculum instance weight (``instance_weight_scheduler``) ``w_i(e) = v_i + (1 - v_i) * e / E_half`` (``e``
counted from 1, no clamp) with ``v_i`` the expert's softmax confidence on the true class min-max scaled within each
class to ``[theta_c, 1]`` (:func:`lfme_instance_base_weights`).
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.long_tail import shot_groups
from ...core.registry import register_into
from .base import ClassificationLoss

LFME_MANY_MIN, LFME_FEW_MAX = 100, 20  # run_network_LFME.py / utils.py:shot_acc: many n >= 100, few n <= 20


def lfme_subsets(counts: Sequence[int], many_min: int = LFME_MANY_MIN, few_max: int = LFME_FEW_MAX) -> List[List[int]]:
    """The class subsets of the experts, few first as the official (low, median, many): the class indices with
    ``n <= few_max``, ``few_max < n < many_min`` and ``n >= many_min``; empty subsets are left out."""
    groups = shot_groups(counts, many_min, few_max)
    return [groups[name] for name in ('few', 'medium', 'many') if groups[name]]


def lfme_teacher_weight(student_acc: float, expert_acc: float, decay_thresh: float = 0.3) -> float:
    """The self-paced weight ``alpha_s`` of one expert (module docstring); accuracies in [0, 1] or percent alike."""
    if expert_acc <= 0:
        raise ValueError(f'expert accuracy must be positive, got {expert_acc}')
    if not 0 <= decay_thresh < 1:
        raise ValueError(f'decay_thresh must be in [0, 1), got {decay_thresh}')
    if student_acc < decay_thresh * expert_acc:
        return 1.0
    return max(0.0, (expert_acc - student_acc) / ((1 - decay_thresh) * expert_acc))


def lfme_instance_base_weights(confidence: torch.Tensor, label: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The static instance weights ``v_i``: within each class, the expert confidences on the true class min-max
    scaled to ``[theta_c, 1]`` (``set_scale_classwise_instance_weight_with_shot``).

    Args:
        confidence: (N,) softmax probability of each training instance's class under its subset's expert.
        label: (N,) class indices.
        theta: (C,) lower end ``theta_c`` per class (official: 1 for few-shot classes, ``12 / mean shots`` of the
            subset otherwise).

    A class whose confidences are all equal gets weight 1 (the official 0 / 0 gives NaN).
    """
    if confidence.shape != label.shape or confidence.dim() != 1:
        raise ValueError(f'confidence {tuple(confidence.shape)} and label {tuple(label.shape)} must be equal (N,)')
    weights = torch.ones_like(confidence, dtype=torch.float32)
    for c in label.unique().tolist():
        mask = label == c
        conf = confidence[mask].float()
        span = conf.max() - conf.min()
        if span > 0:
            theta_c = theta[c].float()
            weights[mask] = theta_c + (1 - theta_c) * (conf - conf.min()) / span
    return weights


def lfme_curriculum_weight(base_weight: torch.Tensor, epoch: int, half_epochs: int) -> torch.Tensor:
    """``w_i(e) = v_i + (1 - v_i) * e / E_half`` with ``e`` counted from 1 (no clamp, as the official)."""
    if half_epochs <= 0:
        raise ValueError(f'half_epochs must be positive, got {half_epochs}')
    return base_weight + (1 - base_weight) * epoch / half_epochs


def lfme_loss(logits: torch.Tensor, label: torch.Tensor, teacher_scores: Sequence[torch.Tensor],
              subsets: Sequence[Sequence[int]], teacher_weight: torch.Tensor, temperature: float = 2.0,
              instance_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Per-sample LFME loss (N,) (module docstring); the teacher logits carry no gradient.

    Args:
        logits: (N, C) student logits.
        label: (N,) class indices.
        teacher_scores: one (N, |S_s|) logit tensor per expert, in the order of ``subsets``.
        subsets: the class indices of each expert's subset (local label ``k`` of expert ``s`` is ``subsets[s][k]``).
        teacher_weight: (S,) ``alpha_s``.
        temperature: ``T``. Default 2 (``config/ImageNet_LT/LFME.py``); no ``T^2`` factor, as the official.
        instance_weight: (N,) curriculum weights ``w_i`` scaling the student logits, or None (all 1).
    """
    if len(teacher_scores) != len(subsets) or teacher_weight.numel() != len(subsets):
        raise ValueError(f'{len(teacher_scores)} teacher scores and {teacher_weight.numel()} teacher weights for '
                         f'{len(subsets)} subsets')
    if instance_weight is not None:
        logits = logits * instance_weight.float().unsqueeze(1)
    loss = F.cross_entropy(logits, label, reduction='none')
    for s, (score, subset) in enumerate(zip(teacher_scores, subsets)):
        if score.shape != (logits.size(0), len(subset)):
            raise ValueError(f'teacher {s} scores have shape {tuple(score.shape)}, expected '
                             f'({logits.size(0)}, {len(subset)})')
        index = torch.as_tensor(subset, device=logits.device, dtype=torch.long)
        student = F.log_softmax(logits.index_select(1, index) / temperature, dim=1)
        teacher = F.softmax(score.detach().float() / temperature, dim=1)
        loss = loss + teacher_weight[s] * F.kl_div(student, teacher, reduction='none').sum(dim=1)
    return loss


@register_into('MODELS', scopes=('mmpretrain',))
class LFMELoss(ClassificationLoss):
    """LFME's student loss (module docstring) with the self-paced expert weights as state.

    The expert logits come as ``teacher_scores`` (a list, one (N, |S_s|) tensor per expert) and the curriculum
    weights as ``instance_weight`` (N,) keyword arguments of ``forward``; without ``teacher_scores`` the loss is the
    cross-entropy of the (scaled) logits.

    Args:
        class_stats: training class counts (:mod:`ltmm.core.class_stats`); they define the subsets.
        num_classes: ``C``, checked against ``class_stats``.
        subsets: the experts' class-index lists; default :func:`lfme_subsets` of the counts (few, medium, many;
            many ``n >= 100``, few ``n <= 20`` as ``ImageNet_shots.pkl``).
        temperature: ``T``. Default 2.0 (``config/ImageNet_LT/LFME.py``).
        decay_thresh: the self-paced threshold. Default 0.3 (``run_network_LFME.py``, ``get_distill_loss_weight``).
        expert_acc: each expert's validation accuracy on its subset, measured once before training (official); may
            be set later with :meth:`set_expert_acc` (the LFME hook does it).
        curriculum_half_epochs: ``E_half`` of the curriculum instance weights, or None for none. The official
            student uses 45 (half of its 90 epochs, ``instance_weight_scheduler``). With it the loss scales each
            sample's logits by ``w_i(e)`` from the training-set base weights ``v`` (:meth:`set_instance_base_weights`,
            computed by ``LFMEHook`` before training) of the batch's dataset indices (``sample_idx``), ``e`` the
            1-indexed epoch (``set_epoch``, given 0-indexed by ``LossEpochHook``).
        loss_weight: multiplies the loss.

    State (in checkpoints): ``teacher_weight`` (S,) ``alpha_s`` (1 at the start), ``expert_acc`` (S,),
    ``instance_base_weight`` (N_train,) ``v`` (empty until set), ``epoch``.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 subsets: Optional[Sequence[Sequence[int]]] = None, temperature: float = 2.0,
                 decay_thresh: float = 0.3, expert_acc: Optional[Sequence[float]] = None,
                 curriculum_half_epochs: Optional[int] = None, loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight)
        if subsets is None:
            subsets = lfme_subsets(self.stats.image_count)
        subsets = [[int(c) for c in s] for s in subsets]
        flat = [c for s in subsets for c in s]
        if not subsets or any(not s for s in subsets) or any(not 0 <= c < self.num_classes for c in flat):
            raise ValueError(f'LFMELoss: subsets must be non-empty lists of class indices in [0, {self.num_classes}),'
                             f' got {subsets}')
        if temperature <= 0:
            raise ValueError(f'LFMELoss: temperature must be positive, got {temperature}')
        if not 0 <= decay_thresh < 1:
            raise ValueError(f'LFMELoss: decay_thresh must be in [0, 1), got {decay_thresh}')
        self.subsets = subsets
        self.temperature = float(temperature)
        self.decay_thresh = float(decay_thresh)
        self.register_buffer('teacher_weight', torch.ones(len(subsets)))
        self.register_buffer('expert_acc', torch.zeros(len(subsets)))
        if expert_acc is not None:
            self.set_expert_acc(expert_acc)
        if curriculum_half_epochs is not None and curriculum_half_epochs <= 0:
            raise ValueError(f'LFMELoss: curriculum_half_epochs must be positive, got {curriculum_half_epochs}')
        self.curriculum_half_epochs = curriculum_half_epochs
        self.register_buffer('instance_base_weight', torch.zeros(0))
        self.register_buffer('epoch', torch.zeros((), dtype=torch.long))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        base = state_dict.get(prefix + 'instance_base_weight')
        if base is not None:  # the base weights' length is the training set's, unknown until they are set
            self.instance_base_weight = self.instance_base_weight.new_empty(base.shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """The 0-indexed training epoch (``LossEpochHook``); the curriculum counts it from 1."""
        self.epoch.fill_(int(epoch))

    def theta(self) -> torch.Tensor:
        """The lower end ``theta_c`` of each class's base weights: 1 on the subset with the fewest images per class
        (LFME's low-shot subset) and ``mean shots of that subset / mean shots of the class's subset`` elsewhere, the
        official ``12 / 53`` (median) and ``12 / 230`` (many) on ImageNet-LT computed from the class counts."""
        counts = torch.from_numpy(np.array(self.stats.image_count, dtype=np.float64))
        means = [counts[subset].mean() for subset in self.subsets]
        fewest = min(means)
        theta = torch.ones(self.num_classes, dtype=torch.float32)
        for subset, mean in zip(self.subsets, means):
            theta[subset] = float(fewest / mean)
        return theta

    def set_instance_base_weights(self, confidence: torch.Tensor, label: torch.Tensor) -> None:
        """Set ``v`` from every training instance's expert confidence on its class (index = dataset index),
        :func:`lfme_instance_base_weights` with :meth:`theta`."""
        base = lfme_instance_base_weights(confidence, label, self.theta().to(confidence.device))
        self.instance_base_weight = base.to(self.instance_base_weight.device)

    def curriculum_weight(self, sample_idx: torch.Tensor) -> torch.Tensor:
        """``w_i(e)`` of the batch's dataset indices at the current epoch."""
        if self.instance_base_weight.numel() == 0:
            raise RuntimeError('LFMELoss: the curriculum base weights are not set (LFMEHook sets them before '
                               'training from the experts)')
        if sample_idx.numel() and int(sample_idx.max()) >= self.instance_base_weight.numel():
            raise IndexError(f'LFMELoss: sample index {int(sample_idx.max())} beyond the '
                             f'{self.instance_base_weight.numel()} base weights (another training set?)')
        base = self.instance_base_weight[sample_idx.to(self.instance_base_weight.device)]
        return lfme_curriculum_weight(base, int(self.epoch) + 1, self.curriculum_half_epochs)

    def set_expert_acc(self, expert_acc: Sequence[float]) -> None:
        """Record each expert's accuracy on its subset (positive, one per subset)."""
        acc = torch.as_tensor(expert_acc, dtype=torch.float32).flatten()
        if acc.numel() != len(self.subsets) or (acc <= 0).any():
            raise ValueError(f'LFMELoss: expert_acc needs {len(self.subsets)} positive values, got {expert_acc}')
        self.expert_acc.copy_(acc)

    def update_teacher_weight(self, student_acc: Sequence[float]) -> None:
        """Set ``alpha_s`` from the student's class-mean accuracy on each subset (same scale as ``expert_acc``)."""
        if len(student_acc) != len(self.subsets):
            raise ValueError(f'LFMELoss: {len(student_acc)} student accuracies for {len(self.subsets)} subsets')
        if (self.expert_acc <= 0).any():
            raise RuntimeError('LFMELoss: expert accuracies are not set (expert_acc / set_expert_acc)')
        weights = [lfme_teacher_weight(float(a), float(e), self.decay_thresh)
                   for a, e in zip(student_acc, self.expert_acc.tolist())]
        self.teacher_weight.copy_(torch.tensor(weights))

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                teacher_scores: Optional[Sequence[torch.Tensor]] = None,
                instance_weight: Optional[torch.Tensor] = None, sample_idx: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """``cls_score`` (N, C) student logits; ``label`` (N,) class indices; ``teacher_scores`` and
        ``instance_weight`` as the class docstring; ``sample_idx`` (N,) the batch's dataset indices, from which the
        curriculum weights come when ``curriculum_half_epochs`` is set (an explicit ``instance_weight`` wins); the
        rest as :class:`ClassificationLoss`."""
        if label.dim() != 1:
            raise ValueError(f'LFMELoss needs (N,) class indices, got labels of shape {tuple(label.shape)}')
        if instance_weight is None and self.curriculum_half_epochs is not None and self.training:
            if sample_idx is None:
                raise ValueError('LFMELoss with curriculum_half_epochs needs the sample_idx of the batch')
            instance_weight = self.curriculum_weight(sample_idx)
        reduction = self.reduction_mode(reduction_override)
        logits, target = self.prepare(cls_score, label)
        if teacher_scores is None:
            scores, subsets, alpha = [], [], logits.new_zeros(0)
        else:
            scores, subsets, alpha = list(teacher_scores), self.subsets, self.teacher_weight
        loss = lfme_loss(logits, label.long(), scores, subsets, alpha, self.temperature, instance_weight)
        return self.loss_weight * self.reduce(loss, target, weight, reduction, avg_factor)
