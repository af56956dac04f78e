"""Label-aware smoothing (LAS), stage 2 of MiSLAS (Zhong et al., "Improving Calibration for Long-Tailed
Recognition", CVPR 2021)."""
import math
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, check_choice

SHAPES = ('concave', 'linear', 'convex', 'exp')


def label_aware_epsilons(counts: Union[Sequence[int], np.ndarray, torch.Tensor], smooth_head: float,
                         smooth_tail: float, shape: str = 'concave', power: Optional[float] = None) -> torch.Tensor:
    """Per-class smoothing ``eps_j`` (C,) float32, from the training counts ``n_j``.

    With ``t_j = (n_j - n_min) / (n_max - n_min)`` (0 for the rarest class, 1 for the most frequent):

    - ``'concave'``: ``eps_T + (eps_H - eps_T) * sin(pi t / 2)``;
    - ``'linear'``: ``eps_T + (eps_H - eps_T) * t``;
    - ``'convex'``: ``eps_H + (eps_H - eps_T) * sin(3 pi / 2 + pi t / 2)``;
    - ``'exp'``: ``eps_T + (eps_H - eps_T) * t ** power``.

    Every shape gives ``eps_T`` to the rarest class(es) and ``eps_H`` to the most frequent. Computed in float64 and
    returned as float32, as the official code (numpy, then ``.float()``).

    Args:
        counts: the training counts ``n_j``, all positive, not all equal.
        smooth_head: ``eps_H``, the smoothing of the most frequent class, in [0, 1].
        smooth_tail: ``eps_T``, the smoothing of the rarest class, in [0, 1].
        shape: one of ``SHAPES``.
        power: the exponent ``p > 0`` of ``'exp'``; must be None for the other shapes.

    Raises:
        ValueError: an unknown shape, a missing / superfluous / non-positive ``power``, an epsilon outside [0, 1], a
            non-positive count, or all counts equal (``t`` is 0 / 0; the official code returns NaN there).
    """
    check_choice('shape', shape, SHAPES)
    if shape == 'exp':
        if power is None or not power > 0:
            raise ValueError(f"shape='exp' needs a power > 0, got power={power!r}")
    elif power is not None:
        raise ValueError(f"power is only used by shape='exp', got power={power!r} with shape={shape!r}")
    for name, value in (('smooth_head', smooth_head), ('smooth_tail', smooth_tail)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f'{name} must be in [0, 1], got {value!r}')
    if torch.is_tensor(counts):
        n = counts.detach().to('cpu', torch.float64).flatten()
    else:  # a copy: the arrays of class_stats are read-only
        n = torch.from_numpy(np.array(counts, dtype=np.float64)).flatten()
    if n.numel() == 0:
        raise ValueError('label-aware smoothing needs the class counts, got none')
    if bool((n <= 0).any()):
        bad = torch.nonzero(n <= 0).flatten()[:5].tolist()
        raise ValueError(f'label-aware smoothing needs every count positive; class index {bad} has '
                         f'{[int(n[i]) for i in bad]}')
    n_min, n_max = n.min(), n.max()
    if n_max == n_min:
        raise ValueError(f'label-aware smoothing interpolates between the rarest and the most frequent class, but '
                         f'every class has {int(n_max)} images (balanced counts: use plain label smoothing)')
    t = (n - n_min) / (n_max - n_min)
    head, tail = float(smooth_head), float(smooth_tail)
    if shape == 'concave':
        eps = tail + (head - tail) * torch.sin(t * (math.pi / 2))
    elif shape == 'linear':
        eps = tail + (head - tail) * t
    elif shape == 'convex':
        eps = head + (head - tail) * torch.sin(1.5 * math.pi + t * (math.pi / 2))
    else:
        eps = tail + (head - tail) * t.pow(float(power))
    return eps.float()


def label_aware_smoothing_loss(cls_score: torch.Tensor, target: torch.Tensor, epsilons: torch.Tensor) -> torch.Tensor:
    """Per-sample LAS, shape (N,):
    ``sum_k y_k [(1 - eps_k) (-log p_k)] + (sum_k y_k eps_k) * (1/C) sum_j (-log p_j)``, ``p = softmax(z)``.

    For a one-hot ``y`` (class ``c``) this is the official ``(1 - eps_c) (-log p_c) + eps_c mean_j(-log p_j)``: the
    smoothing mass is spread over all ``C`` classes, the target included. For a mixup target
    ``y = lam e_a + (1 - lam) e_b`` it is ``lam LAS(a) + (1 - lam) LAS(b)``, the official ``mixup_criterion``.

    Args:
        cls_score: logits ``z`` (N, C).
        target: class probabilities ``y`` (N, C).
        epsilons: the per-class ``eps`` (C,) of :func:`label_aware_epsilons`.
    """
    nll = -F.log_softmax(cls_score, dim=1)
    return (target * (1.0 - epsilons) * nll).sum(dim=1) + (target * epsilons).sum(dim=1) * nll.mean(dim=1)


@register_into('MODELS', scopes=('mmpretrain',))
class LabelAwareSmoothingLoss(ClassificationLoss):
    """Label-aware smoothing: cross-entropy with a per-class label-smoothing factor ``eps_y`` that grows with the
    class's training count, from ``smooth_tail`` (rarest class) to ``smooth_head`` (most frequent), along ``shape``:
    ``L = (1 - eps_y) (-log p_y) + eps_y (1/C) sum_j (-log p_j)`` (see :func:`label_aware_epsilons` and
    :func:`label_aware_smoothing_loss`). MiSLAS trains its stage-2 classifier with it (``configs/mislas``: frozen
    backbone with shifted BatchNorm, ``LWSClsHead(train_fc=True)``, class-aware sampling).

    Official code: dvlab-research/MiSLAS ``methods.py`` lines 31-64 (``LabelAwareSmoothing``), built in
    ``train_stage2.py`` line 238 from the dataset's ``cls_num_list`` with ``smooth_head`` / ``smooth_tail`` of the
    stage-2 config and the default shape. Normalisation: the batch mean (official ``loss.mean()``).

    Deviations from the official code (the first three: an error where the official code fails late or silently):

    - ``shape='exp'`` without ``power``, or an unknown shape, leaves the official ``self.smooth`` unset (an
      AttributeError at build); here a ValueError. A ``power`` given with another shape (ignored there) is refused.
    - Balanced counts (``n_max == n_min``) give NaN smoothing there; here a ValueError.
    - A class without training images is refused (ValueError naming the class): the official datasets have none,
      and it would set ``n_min = 0`` and so move every other class's smoothing.
    - Soft labels (mixup) are accepted; the loss is linear in the target, so this is the official
      ``mixup_criterion(LAS)`` (stage-2 configs run without mixup, as the official ones).

    Args:
        class_stats: training class counts ``n_j``, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given (the ltmm heads fill it in).
        smooth_head: ``eps_H``. Default 0.3, the official ImageNet-LT and iNaturalist-2018 value
            (``config/imagenet/imagenet_resnet50_stage2_mislas.yaml`` and ``config/ina2018/...stage2_mislas.yaml``
            line 39; CIFAR-100-LT IF100 0.4, CIFAR-10-LT IF100 0.3, Places-LT 0.4). The official class has no default.
        smooth_tail: ``eps_T``. Default 0.0, the same configs' line 40 (CIFAR-100-LT IF100 and Places-LT 0.1).
        shape: 'concave' (default, ``methods.py`` line 32; every official config uses it), 'linear', 'convex' or
            'exp'.
        power: exponent of ``shape='exp'`` (official default None, which fails there).
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, smooth_head: float = 0.3,
                 smooth_tail: float = 0.0, shape: str = 'concave', power: Optional[float] = None,
                 loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction)
        self.register_buffer('epsilons', label_aware_epsilons(self.stats.image_count, smooth_head, smooth_tail, shape,
                                                              power), persistent=False)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return label_aware_smoothing_loss(logits, target, self.epsilons)
