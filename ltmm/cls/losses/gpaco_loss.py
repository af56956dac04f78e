"""Generalized Parametric Contrastive Learning (GPaCo; Cui, Zhong, Tian, Liu, Yu and Jia, TPAMI 2023).

Official code (MIT): dvlab-research/Parametric-Contrastive-Learning@fe56535e ``GPaCo/LT/losses.py`` (``PaCoLoss``,
lines 7-78), ``GPaCo/LT/moco/builder.py`` (the model) and ``GPaCo/LT/sh/LT/*.sh`` (the recipes); re-implemented from
its maths, nothing copied.

GPaCo is PaCo (:mod:`ltmm.cls.losses.paco_loss`, the same formula) without the momentum encoder: the key view goes
through the *same* encoder, with gradient, and **both views are anchors**: the ``2B`` anchors ``[q; k]`` with centre
logits ``[W h_q + b; W h_k + b] + log pi`` contrast against ``[q; k; queue]``; ``q_i`` and ``k_i`` are positives of
each other, only the anchor's own row is excluded. The queue (gathered keys and labels) stays. The official loss also
has an optional label smoothing of the centre target (``smooth``, ``eps / (C - 1)`` off-class, ``1 - eps``
on-class), used only on balanced ImageNet; the log prior is added only when ``cal_weight_for_classes`` was called,
which every long-tailed script does (``use_prior=True`` here).

Deviations from the official code: those of :mod:`~ltmm.cls.losses.paco_loss` (no ``1e-9`` / ``1e-12``
epsilons, no ``supt``, ``-1`` labels for empty queue slots).
"""
from typing import Dict, Optional

import torch

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .paco_loss import PaCoLoss


@register_into('MODELS', scopes=('mmpretrain',))
class GPaCoLoss(PaCoLoss):
    """GPaCo's loss (module docstring) as the ``contrast_loss`` of a
    :class:`~ltmm.cls.classifiers.QueueContrastClassifier` run without a key encoder (keys from the query encoder,
    with gradient, and the classifier's logits of both views).

    Args:
        class_stats, num_classes, beta, gamma, base_temperature, use_prior, loss_weight: as :class:`PaCoLoss`.
        temperature: ``T``. Default 0.2 (every ``GPaCo/LT/sh/LT`` script, ``--moco-t 0.2``).
        alpha: sample-positive weight. Default 0.05 (ImageNet-LT X50 / X101 and iNat scripts; ImageNet-LT R50 uses
            0.045, Places-LT 0.02).
        smooth: label smoothing of the centre target. Default 0.0 (``paco_lt.py`` ``--smooth`` default, every
            long-tailed run).
    """
    loss_name = 'loss_gpaco'

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, temperature: float = 0.2,
                 alpha: float = 0.05, beta: float = 1.0, gamma: float = 1.0, base_temperature: Optional[float] = None,
                 use_prior: bool = True, smooth: float = 0.0, loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, temperature, alpha, beta, gamma, base_temperature, use_prior,
                         smooth, loss_weight)

    def forward(self, query: torch.Tensor, key: torch.Tensor, queue_feats: torch.Tensor, queue_labels: torch.Tensor,
                labels: torch.Tensor, cls_score: Optional[torch.Tensor] = None,
                pooled: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Args: query (B, d) and key (B, d), L2-normalised, the key with gradient; queue_feats (K, d),
        queue_labels (K,) (-1 = empty); labels (B,); cls_score (2B, C): the classifier's logits of the query views
        then of the key views; pooled unused. Returns ``{'loss_gpaco': loss}``."""
        centre_logits = self.check_scores(cls_score, 2 * query.size(0))
        features = torch.cat([query.float(), key.float(), queue_feats.float()])
        feat_labels = torch.cat([labels, labels, queue_labels.to(labels)])
        return {self.loss_name: self.contrast(centre_logits, features, feat_labels)}
