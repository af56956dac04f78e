"""Per-class weights shared by the re-weighting losses (class-balanced, LDAM-DRW, DB loss's ``CB`` mode)."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss

from ...class_stats import load_class_stats

Counts = Union[Sequence[int], torch.Tensor]


def effective_number_weights(counts: Counts, beta: float = 0.9999) -> torch.Tensor:
    """Class-balanced weights from the effective number of samples (Cui et al., CVPR 2019).

    ``E_j = (1 - beta^n_j) / (1 - beta)``, ``w_j = 1 / E_j``, then rescaled so that ``sum_j w_j = C``
    (richardaecn/class-balanced-loss, and LDAM-DRW's ``Reweight``/``DRW`` rules). ``beta = 0`` gives all ones.

    Args:
        counts: training samples per class, shape (C,); every count must be >= 1.
        beta: hyper-parameter in [0, 1); the official default is 0.9999.

    Returns:
        float32 tensor of shape (C,).
    """
    n = torch.as_tensor(counts, dtype=torch.float64)
    if n.ndim != 1 or n.numel() == 0:
        raise ValueError(f'counts must be a non-empty 1-D sequence, got shape {tuple(n.shape)}')
    if not 0.0 <= beta < 1.0:
        raise ValueError(f'beta must be in [0, 1), got {beta}')
    if (n < 1).any():
        raise ValueError(f'effective-number weights need every class count >= 1; classes '
                         f'{torch.nonzero(n < 1).flatten().tolist()} have none')
    weights = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return (weights / weights.sum() * n.numel()).float()


# --- shared by the single-label classification losses (balanced softmax, logit adjustment, LDAM, CB, SEQL, Bal-BCE)

NORMALIZE_MODES = ('batch', 'sum_weights')


def soft_targets(label: torch.Tensor, cls_score: torch.Tensor) -> torch.Tensor:
    """Class-probability targets ``(N, C)`` in float32.

    Args:
        label: hard labels ``(N,)`` (integers in ``[0, C)``), or soft labels ``(N, C)``: mmpretrain's ``gt_score``
            under mixup / cutmix, one row per sample summing to 1.
        cls_score: logits ``(N, C)``.
    """
    if cls_score.dim() != 2:
        raise ValueError(f'cls_score must have shape (N, C), got {tuple(cls_score.shape)}')
    if label.dim() == 1 and label.size(0) == cls_score.size(0):
        if label.is_floating_point() or label.dtype == torch.bool:
            raise ValueError(f'hard labels must be integer class indices, got dtype {label.dtype}')
        return F.one_hot(label.long(), cls_score.size(1)).float()
    if label.shape == cls_score.shape:
        return label.float()
    raise ValueError(f'label of shape {tuple(label.shape)} matches neither (N,) class indices nor (N, C) soft '
                     f'labels for cls_score of shape {tuple(cls_score.shape)}')


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


def reduce_class_weighted(loss: torch.Tensor, weight: Optional[torch.Tensor] = None, reduction: str = 'mean',
                          avg_factor: Optional[float] = None, normalize: str = 'batch',
                          sample_class_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Reduce per-sample losses that already carry their class weight ``w_{y_i}``.

    Two normalisations exist in the official code of the re-weighting methods:

    - ``'batch'``: ``sum_i w_{y_i} l_i / avg_factor`` (mmpretrain passes ``avg_factor = N``), as the class-balanced
      loss' TensorFlow code (``SUM_BY_NONZERO_WEIGHTS``) and mmpretrain's ``CrossEntropyLoss(class_weight=...)``;
    - ``'sum_weights'``: ``sum_i w_{y_i} l_i / sum_i w_{y_i}``, PyTorch's ``F.cross_entropy(weight=w)`` mean, as
      LDAM-DRW, RIDE and LiVT. ``avg_factor`` is then ignored for ``reduction='mean'``.

    Args:
        loss: per-sample losses ``(N,)``, class weights already applied.
        weight: optional sample-wise weights ``(N,)``, multiplied into both the loss and the denominator.
        reduction: 'none', 'mean' or 'sum'.
        avg_factor: denominator of 'mean' under ``normalize='batch'`` (the mean over N when None).
        normalize: 'batch' or 'sum_weights'.
        sample_class_weight: ``w_{y_i}`` per sample ``(N,)`` (``sum_k y_ik w_k`` for soft labels); needed by
            ``'sum_weights'`` only.
    """
    if normalize not in NORMALIZE_MODES:
        raise ValueError(f'normalize must be one of {NORMALIZE_MODES}, got {normalize!r}')
    if normalize == 'sum_weights' and sample_class_weight is None:
        raise ValueError("normalize='sum_weights' needs sample_class_weight")
    if weight is not None:
        weight = weight.float()
    if normalize == 'sum_weights' and reduction == 'mean':
        denom = sample_class_weight if weight is None else sample_class_weight * weight
        avg_factor = denom.sum().clamp_min(torch.finfo(torch.float32).eps)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


def log_prior(counts: Counts) -> torch.Tensor:
    """``log pi_j`` with ``pi = n / sum(n)``, shape (C,), float32 (computed in float64); counts must be positive."""
    n = torch.as_tensor(counts).double()
    return torch.log(n / n.sum()).float()


class ClassCountLoss(nn.Module):
    """Base of the classification losses that read per-class training counts from ``class_stats``.

    Holds the counts ``n_j`` (``image_count``; for single-label data the number of training images of class j) as
    the float32 buffer ``class_counts`` (not saved in checkpoints: it is rebuilt from ``class_stats``), checks the
    classifier width against them and turns labels into class-probability targets.

    Args:
        class_stats: anything :func:`ltmm.class_stats.load_class_stats` accepts (dict, JSON, annotation file or
            ``path label`` list).
        loss_weight: multiplies the loss.
        reduction: 'none', 'mean' or 'sum'; ``reduction_override`` in ``forward`` takes precedence.
        allow_zero: whether the method defines classes without training samples (otherwise a ValueError names them).
    """

    def __init__(self, class_stats, loss_weight: float = 1.0, reduction: str = 'mean',
                 allow_zero: bool = False) -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        stats = load_class_stats(class_stats, allow_zero=allow_zero)
        self.source = stats.source
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.register_buffer('class_counts', torch.as_tensor(stats.image_count, dtype=torch.float32),
                             persistent=False)

    @property
    def num_classes(self) -> int:
        return self.class_counts.numel()

    def log_prior(self) -> torch.Tensor:
        """``log pi_j = log(n_j / sum_k n_k)``, shape (C,)."""
        return log_prior(self.class_counts)

    def prepare(self, cls_score: torch.Tensor, label: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Float32 logits and ``(N, C)`` float32 targets; a ValueError when the widths disagree."""
        if cls_score.dim() != 2 or cls_score.size(1) != self.num_classes:
            raise ValueError(f'{type(self).__name__}: cls_score has shape {tuple(cls_score.shape)} but class_stats '
                             f'from {self.source} has {self.num_classes} classes')
        return cls_score.float(), soft_targets(label, cls_score)

    def reduction_mode(self, reduction_override: Optional[str]) -> str:
        if reduction_override not in (None, 'none', 'mean', 'sum'):
            raise ValueError(f"reduction_override must be None, 'none', 'mean' or 'sum', got {reduction_override!r}")
        return reduction_override or self.reduction


def inverse_effective_number(counts: Counts, beta: float) -> torch.Tensor:
    """Unnormalised class-balanced weight ``(1 - beta) / (1 - beta^n)`` (Cui et al., CVPR 2019), elementwise.

    Unlike :func:`effective_number_weights` it is not rescaled to sum to ``C`` and ``n`` may be any positive real
    (e.g. a per-sample average count), as the Distribution-Balanced loss's ``CB`` modes use it.

    Args:
        counts: positive counts, any shape (floating counts allowed).
        beta: hyper-parameter in (0, 1).

    Returns:
        float32 tensor of the shape of ``counts``.
    """
    if not 0.0 < beta < 1.0:
        raise ValueError(f'beta must be in (0, 1), got {beta}')
    n = torch.as_tensor(counts, dtype=torch.float64)
    if (n <= 0).any():
        raise ValueError('inverse_effective_number needs positive counts')
    return ((1.0 - beta) / (1.0 - torch.pow(beta, n))).float()
