"""GLMC's head and loss: Global and Local Mixture Consistency cumulative learning (Du, Yang, Jia, Nan, Chen and Yang,
"Global and Local Mixture Consistency Cumulative Learning for Long-tailed Visual Recognitions", CVPR 2023).

Official code (no licence file; re-implemented from its maths, nothing copied): ynu-yangpeng/GLMC@2c0261cc
``GLMC-2023/Trainer.py`` (``update_weight`` lines 42-45, ``train`` lines 47-122, ``SimSiamLoss`` lines 221-232),
``model/ResNet_cifar.py`` (``ResNet_modify``, lines 56-105), ``model/Resnet_LT.py`` (lines 157-161, 226-244),
``main.py`` (flags, lines 160-181). :class:`~ltmm.cls.classifiers.GLMCClassifier` mixes the batches and runs the
two forward passes; this head holds the layers on the pooled feature ``h`` (dimension ``D``) and the loss:

- ``fc`` (the balanced branch) and ``fc_cb`` (the re-weighted branch): ``Linear(D, C)`` each. **Prediction uses
  ``fc_cb`` only** (the official ``forward(x, train=False)``);
- ``projector`` ``g = Linear(D, d)`` and ``predictor`` ``q = Linear(d, d)``, no BatchNorm, no ReLU (the official
  ``projection_head`` and ``contrast_head``).

With ``lam`` the batch's mixing coefficient, ``y`` / ``y~`` the labels of a sample and of its partner, and
``w_c = C n_c^(-kappa) / sum_j n_j^(-kappa)`` (``update_weight``):

```
soft label      ybar   = lam onehot(y) + (1 - lam) onehot(y~)
weighted label  ybar^w = lam w_y onehot(y) + (1 - lam) w_y~ onehot(y~)
L_bal = CE(z_mix, ybar) + CE(z_cut, ybar)                CE(z, t) = -mean_i sum_c t_ic log softmax(z_i)_c
L_reb = CE(zcb_mix, ybar^w) + CE(zcb_cut, ybar^w)        (divided by the batch size B, not by sum w)
L_con = -cos(q_mix, sg(g_cut)) - cos(q_cut, sg(g_mix))   (mean over the batch, sg = stop-gradient)
L     = alpha_e L_bal + (1 - alpha_e) L_reb + lambda_c L_con,    alpha_e = 1 - (e / E)^2
```

for the 0-indexed epoch ``e`` of ``E``, told by :class:`~ltmm.cls.hooks.LossEpochHook` through :meth:`set_epoch`
and kept in a buffer (so a resumed run continues the schedule). The loss dict holds the three weighted terms
(``loss_balanced``, ``loss_rebalanced``, ``loss_consistency``; mmengine sums them) and ``glmc_alpha`` for the log.

Deviations from the official code (numerical only): the terms are computed in float32 under AMP; the counts come
from ``class_stats`` (a class without training image raises, where the official weight would be ``inf`` and the loss
NaN); ``set_epoch`` rejects epochs outside ``0..E-1``, where ``alpha_e`` would turn negative.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from ...core.reweighting import Counts
from ..losses.base import soft_cross_entropy


class GLMCOutputs(NamedTuple):
    """The four training outputs of one forward pass (the official ``model(x, train=True)``)."""
    logits: torch.Tensor  # (N, C), fc: the balanced branch
    cb_logits: torch.Tensor  # (N, C), fc_cb: the re-weighted branch
    projection: torch.Tensor  # (N, d), g(h)
    prediction: torch.Tensor  # (N, d), q(g(h))


def _fp32(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32, or in its own dtype when that is wider (the loss terms are computed in float32 under AMP)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def cumulative_class_weights(counts: Counts, kappa: float) -> torch.Tensor:
    """GLMC's label weights ``w_c = C n_c^(-kappa) / sum_j n_j^(-kappa)`` (mean 1), float32 (C,).

    Raises:
        ValueError: a class with no training sample (its weight would be infinite), or a non-finite ``kappa``.
    """
    n = torch.as_tensor(np.asarray(counts, dtype=np.float64))
    if n.ndim != 1 or n.numel() == 0:
        raise ValueError(f'counts must be a non-empty 1-D sequence, got shape {tuple(n.shape)}')
    if not np.isfinite(kappa):
        raise ValueError(f'kappa must be a finite number, got {kappa!r}')
    empty = torch.nonzero(n <= 0).flatten().tolist()
    if empty:
        raise ValueError(f'GLMC label weights n_c^(-kappa) need every class count >= 1; classes {empty[:10]} have '
                         'none')
    weights = n ** -float(kappa)
    return (weights / weights.sum() * n.numel()).float()


def mixed_targets(labels: torch.Tensor, partner_labels: torch.Tensor, lam: float, num_classes: int,
                  class_weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``lam w_y onehot(y) + (1 - lam) w_y~ onehot(y~)``, float32 (N, C); ``w = 1`` without ``class_weights``
    (the official ``GLMC_mixed`` labels; MixUp and CutMix share them, as both use the same ``lam``)."""
    target = lam * F.one_hot(labels.long(), num_classes).float()
    partner = (1.0 - lam) * F.one_hot(partner_labels.long(), num_classes).float()
    if class_weights is not None:
        target, partner = target * class_weights, partner * class_weights
    return target + partner


def simsiam_loss(prediction: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """SimSiam's ``-mean_i cos(p_i, sg(z_i))``, the gradient stopped at the projection (official ``SimSiamLoss``,
    'simplified')."""
    return -F.cosine_similarity(_fp32(prediction), _fp32(projection.detach()), dim=-1).mean()


def cumulative_alpha(epoch: int, max_epochs: int) -> float:
    """GLMC's cumulative coefficient ``alpha_e = 1 - (e / E)^2`` of the balanced loss (0-indexed ``e``)."""
    return 1.0 - (epoch / max_epochs) ** 2


def glmc_loss(mix: GLMCOutputs, cut: GLMCOutputs, soft_target: torch.Tensor, weighted_target: torch.Tensor,
              alpha: float, contrast_weight: float) -> Dict[str, torch.Tensor]:
    """The three weighted terms of GLMC's loss (module docstring) from the outputs of the MixUp and the CutMix
    pass; the targets are (N, C) (:func:`mixed_targets`), the same for both passes."""
    def ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return soft_cross_entropy(_fp32(logits), target).mean()

    balanced = ce(mix.logits, soft_target) + ce(cut.logits, soft_target)
    rebalanced = ce(mix.cb_logits, weighted_target) + ce(cut.cb_logits, weighted_target)
    consistency = simsiam_loss(mix.prediction, cut.projection) + simsiam_loss(cut.prediction, mix.projection)
    return dict(loss_balanced=alpha * balanced, loss_rebalanced=(1.0 - alpha) * rebalanced,
                loss_consistency=contrast_weight * consistency)


@register_into('MODELS', scopes=('mmpretrain',))
class GLMCHead(BaseModule):
    """GLMC's two classifiers, projector and predictor, and its loss (module docstring). Used by
    :class:`~ltmm.cls.classifiers.GLMCClassifier`, which calls :meth:`loss` with the features of its two passes;
    :meth:`predict` (``fc_cb``) is an mmpretrain head's.

    Args:
        num_classes: ``C``.
        in_channels: ``D``, the pooled feature's dimension (256 for GLMC's 4x-wide CIFAR ResNet-32, 2048 for
            ResNet-50 / ResNeXt-50).
        class_stats: per-class training counts (``ltmm.core.class_stats``), for ``w_c``.
        max_epochs: ``E`` of ``alpha_e`` (the official ``--epochs``: 200 on CIFAR-LT, 135 on ImageNet-LT).
        proj_channels: ``d``. Default 128 (``ResNet_cifar.py`` ``hidden_dim = 128``; ``Resnet_LT.py`` uses 256).
        label_weight_power: ``kappa``. Default 1.0 (``main.py`` ``--label_weighting``; the README commands use 1.2
            on CIFAR-LT except CIFAR-10-LT IF10, 1.0 on ImageNet-LT and iNaturalist).
        contrast_weight: ``lambda_c``. Default 10.0 (``main.py`` ``--contrast_weight``; the README uses 4 on
            CIFAR-100-LT IF100 and IF10, 6 on IF50, 10 on ImageNet-LT and iNaturalist).
        init_cfg: weight init of the four linear layers; None keeps PyTorch's default (the official ImageNet
            network's). The official CIFAR network Kaiming-normalises them (``_weights_init``), see the CIFAR config.
    """

    def __init__(self, num_classes: int, in_channels: int, class_stats: ClassStatsLike, max_epochs: int,
                 proj_channels: int = 128, label_weight_power: float = 1.0, contrast_weight: float = 10.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1 or in_channels < 1 or proj_channels < 1:
            raise ValueError(f'GLMCHead: num_classes ({num_classes}), in_channels ({in_channels}) and proj_channels '
                             f'({proj_channels}) must be positive')
        if not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f'GLMCHead: max_epochs must be a positive int (E of alpha_e), got {max_epochs!r}')
        if not np.isfinite(contrast_weight) or contrast_weight < 0:
            raise ValueError(f'GLMCHead: contrast_weight must be >= 0, got {contrast_weight!r}')
        stats = load_class_stats(class_stats, num_classes)
        self.num_classes = num_classes
        self.max_epochs = max_epochs
        self.label_weight_power = float(label_weight_power)
        self.contrast_weight = float(contrast_weight)
        self.fc = nn.Linear(in_channels, num_classes)
        self.fc_cb = nn.Linear(in_channels, num_classes)
        self.projector = nn.Linear(in_channels, proj_channels)
        self.predictor = nn.Linear(proj_channels, proj_channels)
        self.register_buffer('class_weights', cumulative_class_weights(stats.instance_count, label_weight_power))
        self.register_buffer('epoch', torch.zeros((), dtype=torch.long))

    def set_epoch(self, epoch: int) -> None:
        """Set the 0-indexed training epoch ``e`` of ``alpha_e`` (called by ``LossEpochHook``)."""
        if not 0 <= int(epoch) < self.max_epochs:
            raise ValueError(f'GLMCHead: epoch {epoch} is outside 0..{self.max_epochs - 1} (max_epochs='
                             f'{self.max_epochs}, E of alpha_e = 1 - (e / E)^2); set it to the run\'s max_epochs')
        self.epoch.fill_(int(epoch))

    @property
    def alpha(self) -> float:
        """``alpha_e`` of the current epoch."""
        return cumulative_alpha(int(self.epoch), self.max_epochs)

    def pre_logits(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The pooled feature ``h``: the last of the neck's outputs."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The prediction logits, ``fc_cb(h)``."""
        return self.fc_cb(self.pre_logits(feats))

    def train_outputs(self, feats: Tuple[torch.Tensor, ...]) -> GLMCOutputs:
        """``(fc(h), fc_cb(h), g(h), q(g(h)))`` of one training pass."""
        h = self.pre_logits(feats)
        projection = self.projector(h)
        return GLMCOutputs(self.fc(h), self.fc_cb(h), projection, self.predictor(projection))

    def loss(self, mix_feats: Tuple[torch.Tensor, ...], cut_feats: Tuple[torch.Tensor, ...], labels: torch.Tensor,
             partner_labels: torch.Tensor, lam: float) -> Dict[str, torch.Tensor]:
        """GLMC's loss of the MixUp pass's and the CutMix pass's features, for samples of class ``labels`` mixed
        with partners of class ``partner_labels`` (both (N,)) with coefficient ``lam``."""
        for name, value in (('labels', labels), ('partner_labels', partner_labels)):
            if value.numel() and not 0 <= int(value.min()) <= int(value.max()) < self.num_classes:
                raise ValueError(f'GLMCHead: {name} must lie in 0..{self.num_classes - 1}, got '
                                 f'{int(value.min())}..{int(value.max())}')
        soft = mixed_targets(labels, partner_labels, lam, self.num_classes)
        weighted = mixed_targets(labels, partner_labels, lam, self.num_classes, self.class_weights)
        alpha = self.alpha
        losses = glmc_loss(self.train_outputs(mix_feats), self.train_outputs(cut_feats), soft, weighted, alpha,
                           self.contrast_weight)
        losses['glmc_alpha'] = torch.tensor(alpha, device=labels.device)  # logged, not summed (no 'loss')
        return losses

    def predict(self, feats: Tuple[torch.Tensor, ...],
                data_samples: Optional[Sequence[Optional[DataSample]]] = None) -> List[DataSample]:
        """Softmax scores and labels of ``fc_cb`` (as mmpretrain's ``ClsHead.predict``)."""
        scores = F.softmax(self(feats), dim=1)
        labels = scores.argmax(dim=1, keepdim=True).detach()
        data_samples = data_samples if data_samples is not None else [None] * len(scores)
        out = []
        for data_sample, score, label in zip(data_samples, scores, labels):
            data_sample = DataSample() if data_sample is None else data_sample
            out.append(data_sample.set_pred_score(score).set_pred_label(label))
        return out
