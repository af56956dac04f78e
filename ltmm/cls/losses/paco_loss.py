"""Parametric Contrastive Learning (PaCo; Cui, Zhong, Liu, Yu and Jia, "Parametric Contrastive Learning", ICCV 2021).

Official code (MIT): dvlab-research/Parametric-Contrastive-Learning@fe56535e ``PaCo/LT/losses.py`` (``PaCoLoss``,
lines 7-72), ``PaCo/LT/moco/builder.py`` (the model) and ``PaCo/LT/paco_lt.py`` / ``paco_cifar.py`` (the recipes);
re-implemented from its maths, nothing copied.

PaCo is supervised MoCo with ``C`` learnable class centres in the contrast. For an anchor ``i`` (a query, the
normalised projection ``z_i`` of view 0) with label ``y_i``:

- centre logits ``s_ic = w_c . h_i + b_c + log pi_c``, ``c = 1..C``: the online classifier (a biased Linear) on the
  *pooled, unnormalised* backbone feature ``h_i``, plus the log training prior ``pi_c = n_c / sum_k n_k`` (the
  Balanced-Softmax / logit-adjusted offset); **not** divided by the temperature;
- sample logits ``l_ij = z_i . z_j / T`` over the contrast set ``j``: the local queries, the local keys (view 1,
  from the momentum key encoder) and the queue of past keys;
- one softmax over both: ``log p_ix = v_ix - log(sum_c exp s_ic + gamma * sum_{j != i} exp l_ij)`` (``gamma`` scales
  only the sample part of the denominator; the anchor itself is excluded);
- positives: the own centre ``y_i`` with weight ``beta`` and every sample ``j != i`` of class ``y_i`` (its key, other
  local queries / keys, queue entries) with weight ``alpha``; the normaliser is the weight sum:
  ``L_i = -(beta log p_{i,y_i} + alpha sum_{j in P(i)} log p_ij) / (beta + alpha |P(i)|)``;
- ``L = (T / T_base) mean_i L_i`` (``T_base = T`` by default, so the factor is 1).

There is no separate cross-entropy: the classifier trains through this loss only, and prediction uses its raw logits
(no prior subtracted). With ``alpha = gamma = 0`` and ``beta = 1`` the loss is exactly Balanced Softmax
``CE(W h + b + log pi, y)``; without the prior it is plain cross-entropy.

The softmax with weights is :func:`~ltmm.cls.losses.supcon_loss.supcon_loss` (float32 whatever the input dtype,
detached row max subtracted); this module builds its logits and weights.

Deviations from the official code, with reasons:

- the log prior is ``log pi`` (every class count must be positive: a zero count raises a ValueError naming the
  class), not ``log(pi + 1e-9)``; the official denominator's ``+ 1e-12`` is dropped. Both shift the loss by less than
  float32 rounding for any real long-tailed count (``pi >= 4e-5`` on ImageNet-LT);
- the official ``supt`` (a divisor of the centre logits) is always 1 in the released scripts and is left out;
- queue entries labelled ``-1`` (:class:`~ltmm.cls.classifiers.LabelledQueue` starts that way, where the official
  queue starts with random labels) are never positives but stay in the denominator, like any other key.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from ...core.reweighting import log_prior as class_log_prior
from .supcon_loss import supcon_loss


def paco_loss(centre_logits: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, temperature: float,
              alpha: float, beta: float = 1.0, gamma: float = 1.0, log_prior: Optional[torch.Tensor] = None,
              smooth: float = 0.0, base_temperature: Optional[float] = None) -> torch.Tensor:
    """PaCo's loss (module docstring) of the ``A`` anchors ``features[:A]``, ``A = centre_logits.size(0)``.

    Args:
        centre_logits: ``W h + b`` of the anchors, ``(A, C)``: the classifier on the pooled, unnormalised feature.
        features: the contrast set ``(N, d)``, L2-normalised rows, anchors first (PaCo: ``[q; k; queue]`` with
            ``A = B``; GPaCo: the same rows with ``A = 2B``, both views anchors).
        labels: ``(N,)`` labels of ``features``; the anchors' must be in ``[0, C)``, other rows may be ``-1``
            (an empty queue slot: never a positive).
        temperature: ``T`` of the sample logits.
        alpha: weight of each same-class sample positive.
        beta: weight of the own-class centre.
        gamma: weight of the sample part of the denominator.
        log_prior: ``log pi`` ``(C,)`` added to ``centre_logits``; None for none (GPaCo without
            ``cal_weight_for_classes``: plain CE in the reduction).
        smooth: label smoothing ``eps`` of the centre target (GPaCo: ``eps / (C - 1)`` off-class, ``1 - eps``
            on-class); 0 in every long-tailed run.
        base_temperature: ``T_base`` of the factor ``T / T_base``; None for ``T`` (factor 1, the official default).

    Returns:
        The scalar loss, float32.
    """
    num_anchors, num_classes = centre_logits.shape
    if features.dim() != 2 or labels.shape != (features.size(0), ):
        raise ValueError(f'paco_loss: features must be (N, d) with labels (N,), got {tuple(features.shape)} and '
                         f'{tuple(labels.shape)}')
    if num_anchors > features.size(0):
        raise ValueError(f'paco_loss: {num_anchors} anchors (centre_logits rows) but only {features.size(0)} '
                         'feature rows')
    anchor_labels = labels[:num_anchors].long()
    if anchor_labels.numel() and (anchor_labels.min() < 0 or anchor_labels.max() >= num_classes):
        raise ValueError(f'paco_loss: anchor labels must be in [0, {num_classes}), got '
                         f'{sorted(set(anchor_labels.tolist()))[:5]}...')
    if not 0.0 <= smooth < 1.0:
        raise ValueError(f'paco_loss: smooth must be in [0, 1), got {smooth}')
    features = features.float()
    centre = centre_logits.float()
    if log_prior is not None:
        centre = centre + log_prior.to(centre)
    sample_logits = features[:num_anchors] @ features.t() / temperature
    logits = torch.cat([centre, sample_logits], dim=1)

    not_self = torch.ones_like(sample_logits)
    idx = torch.arange(num_anchors, device=features.device)
    not_self[idx, idx] = 0.0
    same_class = (anchor_labels[:, None] == labels[None, :].long()).float() * not_self
    target = F.one_hot(anchor_labels, num_classes).float()
    if smooth > 0:
        target = target * (1.0 - smooth) + (1.0 - target) * (smooth / (num_classes - 1))
    pos_weight = torch.cat([beta * target, alpha * same_class], dim=1)
    denom_weight = torch.cat([torch.ones_like(centre), gamma * not_self], dim=1)
    base = temperature if base_temperature is None else base_temperature
    return supcon_loss(logits, pos_weight, denom_weight, scale=temperature / base)


@register_into('MODELS', scopes=('mmpretrain',))
class PaCoLoss(nn.Module):
    """PaCo's loss (module docstring) as the ``contrast_loss`` of a
    :class:`~ltmm.cls.classifiers.QueueContrastClassifier`: anchors are the queries, the contrast set is
    ``[q; k; queue]`` of this rank (the official in-batch block is local; only the queue holds other ranks' keys).

    Args:
        class_stats: training class counts (anything ``ltmm.core.class_stats.load_class_stats`` accepts), for
            ``pi``; every count must be positive.
        num_classes: ``C``, checked against ``class_stats`` when given.
        temperature: ``T``. Default 0.2 (``paco_lt.py`` ``--moco-t`` default; ImageNet-LT R50, X101, iNat;
            0.07 for ImageNet-LT X50, 0.05 for CIFAR-100-LT in the ``sh/`` scripts).
        alpha: sample-positive weight. Default 0.05 (every ImageNet-LT / iNat / Places script; CIFAR 0.01; the
            argparse default 1.0 is never used).
        beta: centre weight. Default 1.0 (every script).
        gamma: sample-denominator weight. Default 1.0 (every script).
        base_temperature: ``T_base``; None for ``T`` (``losses.py`` line 11).
        use_prior: add ``log pi`` to the centre logits. Default True (every PaCo script calls
            ``cal_weight_for_classes``); False gives the balanced-data variant (plain CE in the reduction).
        smooth: label smoothing of the centre target. Default 0.0 (GPaCo's ``--smooth`` default; PaCo has none).
        loss_weight: multiplies the loss. Default 1.0.
    """
    loss_name = 'loss_paco'

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, temperature: float = 0.2,
                 alpha: float = 0.05, beta: float = 1.0, gamma: float = 1.0, base_temperature: Optional[float] = None,
                 use_prior: bool = True, smooth: float = 0.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not temperature > 0 or (base_temperature is not None and not base_temperature > 0):
            raise ValueError(f'{type(self).__name__}: temperature and base_temperature must be > 0, got '
                             f'{temperature} and {base_temperature}')
        if min(alpha, beta, gamma) < 0 or alpha + beta <= 0:
            raise ValueError(f'{type(self).__name__}: alpha, beta, gamma must be >= 0 with alpha + beta > 0, got '
                             f'alpha={alpha}, beta={beta}, gamma={gamma}')
        if not 0.0 <= smooth < 1.0:
            raise ValueError(f'{type(self).__name__}: smooth must be in [0, 1), got {smooth}')
        self.stats = load_class_stats(class_stats, num_classes)
        self.register_buffer('class_counts', torch.tensor(self.stats.image_count, dtype=torch.float32),
                             persistent=False)
        self.temperature = float(temperature)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.base_temperature = None if base_temperature is None else float(base_temperature)
        self.use_prior = bool(use_prior)
        self.smooth = float(smooth)
        self.loss_weight = float(loss_weight)

    @property
    def num_classes(self) -> int:
        return self.class_counts.numel()

    def log_prior(self) -> torch.Tensor:
        """``log pi_c = log(n_c / sum_k n_k)``, shape (C,)."""
        return class_log_prior(self.class_counts)

    def check_scores(self, cls_score: Optional[torch.Tensor], rows: int) -> torch.Tensor:
        if cls_score is None:
            raise ValueError(f'{type(self).__name__} needs the classifier logits (cls_score): give the model a head '
                             '(the class centres, a biased Linear on the pooled feature)')
        if cls_score.shape != (rows, self.num_classes):
            raise ValueError(f'{type(self).__name__}: cls_score has shape {tuple(cls_score.shape)} but must be '
                             f'({rows}, {self.num_classes}): class_stats from {self.stats.source} has '
                             f'{self.num_classes} classes')
        return cls_score

    def contrast(self, centre_logits: torch.Tensor, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """:func:`paco_loss` with this module's settings, times ``loss_weight``."""
        prior = self.log_prior() if self.use_prior else None
        return self.loss_weight * paco_loss(centre_logits, features, labels, self.temperature, self.alpha,
                                            self.beta, self.gamma, prior, self.smooth, self.base_temperature)

    def forward(self, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                labels: torch.Tensor, cls_score: Optional[torch.Tensor] = None,
                pooled: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Args: query (B, d) and key (B, d), L2-normalised; queue_feats (K, d), queue_labels (K,) (-1 = empty);
        labels (B,); cls_score (B, C) the classifier's logits of the queries; pooled unused (the centres are
        ``cls_score``). Returns ``{'loss_paco': loss}``."""
        centre_logits = self.check_scores(cls_score, query.size(0))
        features = torch.cat([query.float(), key.float(), queue_feats.float()])
        feat_labels = torch.cat([labels, labels, queue_labels.to(labels)])
        return {self.loss_name: self.contrast(centre_logits, features, feat_labels)}
