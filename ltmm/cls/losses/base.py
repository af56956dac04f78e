"""The one template of ltmm's classification losses (single-label, multi-expert and multi-label).

Every classification loss is a :class:`ClassificationLoss`: it reads the per-class training counts from
``class_stats`` once at build (checked against ``num_classes`` when given), and its ``forward`` runs the same steps:

1. ``prepare``: float32 logits (losses are computed in float32 under AMP), a width check against the class
   statistics, and ``(N, C)`` class-probability targets from hard labels ``(N,)`` or soft labels ``(N, C)``
   (mmpretrain's ``gt_score`` under mixup / cutmix);
2. ``per_sample_loss``: the method's loss of each sample ``(N,)`` or of each element ``(N, C)``, class weights
   already applied (the one method a subclass writes);
3. ``reduce``: sample weights, ``avg_factor`` and the reduction ('none', 'mean', 'sum'), with one of two
   normalisations of the mean (``normalize``): ``'batch'`` divides by ``avg_factor`` (mmpretrain passes ``N``), or by
   ``avg_factor * C`` for element-wise losses; ``'sum_weights'`` divides by ``sum_i w_{y_i}``, PyTorch's
   ``F.cross_entropy(weight=w)`` mean, as LDAM-DRW, RIDE and LiVT normalise their class-weighted losses.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

from ...core.class_stats import ClassStats, ClassStatsLike, load_class_stats
from ...core.reweighting import log_prior
from .drw import DeferredReweighting

NORMALIZE_MODES = ('batch', 'sum_weights')
REDUCTIONS = ('none', 'mean', 'sum')


def soft_targets(label: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Class-probability targets ``(N, C)`` in float32.

    Args:
        label: hard labels ``(N,)`` (integers in ``[0, C)``), or soft labels ``(N, C)``, one row per sample summing
            to 1.
        num_classes: ``C``.
    """
    if label.dim() == 1:
        if label.is_floating_point() or label.dtype == torch.bool:
            raise ValueError(f'hard labels must be integer class indices, got dtype {label.dtype}')
        return F.one_hot(label.long(), num_classes).float()
    if label.dim() == 2 and label.size(1) == num_classes:
        return label.float()
    raise ValueError(f'label of shape {tuple(label.shape)} matches neither (N,) class indices nor (N, {num_classes}) '
                     'soft labels')


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                       class_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Per-sample ``-sum_k w_k * y_k * log softmax(z)_k``, shape (N,); equals ``F.cross_entropy(z, y, weight=w,
    reduction='none')`` for one-hot ``y``.

    Args:
        logits: ``(N, C)``.
        target: ``(N, C)`` class probabilities (see :func:`soft_targets`).
        class_weight: ``(C,)`` per-class weights ``w``; None for all ones.
    """
    log_prob = F.log_softmax(logits, dim=1)
    if class_weight is not None:
        target = target * class_weight
    return -(target * log_prob).sum(dim=1)


def check_choice(name: str, value: Optional[str], choices: Tuple[str, ...]) -> None:
    """A ValueError naming the argument when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


def fill_loss_num_classes(head_kwargs: dict, num_classes: int, head: str) -> dict:
    """A head's keyword arguments with ``num_classes`` filled into ``loss`` when it configures an ltmm
    :class:`ClassificationLoss` (which then checks it against its ``class_stats`` at build); another loss, a built
    module or no ``loss`` leave them as they are.

    Raises:
        ValueError: the loss config sets another ``num_classes`` than the head's.
    """
    loss = head_kwargs.get('loss')
    if not isinstance(loss, dict):
        return head_kwargs
    loss_type = MODELS.get(loss['type']) if isinstance(loss.get('type'), str) else loss.get('type')
    if not (isinstance(loss_type, type) and issubclass(loss_type, ClassificationLoss)):
        return head_kwargs
    loss = dict(loss)
    if loss.setdefault('num_classes', num_classes) != num_classes:
        raise ValueError(f'{head}: loss.num_classes={loss["num_classes"]} but the head has num_classes={num_classes}')
    return dict(head_kwargs, loss=loss)


class ClassificationLoss(nn.Module):
    """Base of the classification losses: see the module docstring for the steps of ``forward``.

    Holds the counts ``n_j`` (``image_count``: for single-label data the training images of class j) as the float32
    buffer ``class_counts`` (not in checkpoints: rebuilt from ``class_stats``) and, for the losses that support it,
    deferred re-weighting (:class:`DeferredReweighting`, in ``drw``), whose class weights are then the ``w`` of
    the loss.

    Args:
        class_stats: anything :func:`ltmm.core.class_stats.load_class_stats` accepts (dict, JSON, annotation file or
            ``path label`` list).
        num_classes: ``C``; when given, ``class_stats`` must describe exactly this many classes (checked here, once).
            The ltmm heads fill it in from their own ``num_classes``.
        loss_weight: multiplies the loss.
        reduction: 'none', 'mean' or 'sum'; ``reduction_override`` in ``forward`` takes precedence.
        normalize: 'batch' or 'sum_weights', see the module docstring.
        allow_zero: whether the method defines classes without training samples (otherwise a ValueError names them).
        drw: deferred re-weighting, ``dict(start_epoch=..., beta=...)`` (see :class:`DeferredReweighting`); only the
            losses whose ``per_sample_loss`` applies ``class_weight`` take it (``supports_drw``). None: never
            re-weighted.
    """
    logit_shape: Tuple[str, ...] = ('N', 'C')  # the expected cls_score dimensions
    supports_drw = False  # whether per_sample_loss applies ``class_weight`` (then DRW can set it)

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, loss_weight: float = 1.0,
                 reduction: str = 'mean', normalize: str = 'batch', allow_zero: bool = False,
                 drw: Optional[dict] = None) -> None:
        super().__init__()
        check_choice('reduction', reduction, REDUCTIONS)
        check_choice('normalize', normalize, NORMALIZE_MODES)
        self.stats: ClassStats = load_class_stats(class_stats, num_classes, allow_zero=allow_zero)
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.normalize = normalize
        self.register_buffer('class_counts', torch.tensor(self.stats.image_count, dtype=torch.float32),
                             persistent=False)
        self.drw = None if drw is None else DeferredReweighting(self.class_counts, **drw)

    @property
    def num_classes(self) -> int:
        return self.class_counts.numel()

    @property
    def class_weight(self) -> Optional[torch.Tensor]:
        """The per-class weights ``w`` (C,) in force, or None for none: DRW's, unless a subclass has its own."""
        return None if self.drw is None else self.drw.class_weight

    def adopt_drw(self, start_epoch: int, beta: float) -> None:
        """Take the DRW schedule of a pre-0.2 ``DRWHook(milestone, beta)``: build ``drw`` with it, or check that the
        loss's own ``drw`` holds the same.

        Raises:
            ValueError: the loss's ``drw`` holds another schedule.
        """
        if self.drw is None:
            self.drw = DeferredReweighting(self.class_counts, start_epoch, beta)
        elif (self.drw.start_epoch, self.drw.beta) != (start_epoch, float(beta)):
            raise ValueError(f'{type(self).__name__}: drw=dict(start_epoch={self.drw.start_epoch}, '
                             f'beta={self.drw.beta}) and DRWHook(milestone={start_epoch}, beta={beta}) disagree; set '
                             'the schedule once, on the loss')

    def log_prior(self) -> torch.Tensor:
        """``log pi_j = log(n_j / sum_k n_k)``, shape (C,)."""
        return log_prior(self.class_counts)

    def targets(self, label: torch.Tensor) -> torch.Tensor:
        """``(N, C)`` float32 targets of ``label``; multi-label losses override it."""
        return soft_targets(label, self.num_classes)

    def prepare(self, cls_score: torch.Tensor, label: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Float32 logits and ``(N, C)`` float32 targets; a ValueError when the shapes disagree with the class
        statistics or with each other."""
        if cls_score.dim() != len(self.logit_shape) or cls_score.size(-1) != self.num_classes:
            raise ValueError(f'{type(self).__name__}: cls_score has shape {tuple(cls_score.shape)} but must be '
                             f'({", ".join(self.logit_shape)}) where class_stats from {self.stats.source} has '
                             f'{self.num_classes} classes')
        target = self.targets(label)
        if target.size(0) != cls_score.size(0):
            raise ValueError(f'{type(self).__name__}: {target.size(0)} labels for {cls_score.size(0)} samples')
        return cls_score.float(), target

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """The method's unreduced loss, ``(N,)`` per sample or ``(N, C)`` per element, class weights applied.

        Args:
            logits: float32 logits.
            target: ``(N, C)`` float32 class probabilities.
            label: the labels as given to ``forward`` (``label.dim() == 1`` for hard labels).
        """
        raise NotImplementedError

    def reduction_mode(self, reduction_override: Optional[str]) -> str:
        if reduction_override is not None:
            check_choice('reduction_override', reduction_override, REDUCTIONS)
        return reduction_override or self.reduction

    def reduce(self, loss: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor], reduction: str,
               avg_factor: Optional[float], normalize: Optional[str] = None) -> torch.Tensor:
        """Reduce an unreduced loss (see the module docstring).

        Args:
            loss: ``(N,)`` or ``(N, C)`` losses, class weights already applied.
            target: ``(N, C)`` targets; ``sum_k y_ik w_k`` is sample i's class weight under ``'sum_weights'``.
            weight: optional sample weights ``(N,)``, multiplied into the loss and, under ``'sum_weights'``, into the
                denominator; element weights ``(N, C)`` for element-wise losses under ``'batch'``.
            reduction: 'none', 'mean' or 'sum'.
            avg_factor: denominator of the mean under ``'batch'`` (per sample; the mean over the elements when None).
            normalize: the normalisation of the mean; ``self.normalize`` when None.
        """
        normalize = normalize or self.normalize
        weight = None if weight is None else weight.float()
        if reduction == 'mean':
            if normalize == 'sum_weights':  # sum_i weight_i w_{y_i}
                class_weight = self.class_weight
                denom = target.sum(dim=1) if class_weight is None else (target * class_weight).sum(dim=1)
                denom = denom if weight is None else denom * weight
                avg_factor = denom.sum().clamp_min(torch.finfo(torch.float32).eps)
            elif avg_factor is not None:
                avg_factor = avg_factor * loss[0].numel()
        if weight is not None and weight.dim() == 1 and loss.dim() == 2:
            weight = weight.unsqueeze(1)
        return weight_reduce_loss(loss, weight, reduction, avg_factor)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (N, C) logits; label (N,) class indices or (N, C) soft labels; weight (N,) sample
        weights; avg_factor: denominator of the mean under ``normalize='batch'``; reduction_override: 'none',
        'mean' or 'sum'."""
        reduction = self.reduction_mode(reduction_override)
        logits, target = self.prepare(cls_score, label)
        loss = self.per_sample_loss(logits, target, label)
        return self.loss_weight * self.reduce(loss, target, weight, reduction, avg_factor)
