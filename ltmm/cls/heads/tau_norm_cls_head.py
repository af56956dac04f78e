"""tau-normalised linear classifier (post-hoc, decoupling)."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes


def tau_normalize(weight: torch.Tensor, tau: float) -> torch.Tensor:
    """``w_j / |w_j|^tau`` for each class vector (row) ``w_j`` of ``weight`` (C, D).

    ``tau = 0`` leaves the weights unchanged, ``tau = 1`` gives unit-norm rows. A zero row stays zero (its norm is
    clamped to 1e-12).
    """
    norms = weight.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return weight / norms.pow(tau)


def tau_norm_logits(feats: torch.Tensor, weight: torch.Tensor, tau: float) -> torch.Tensor:
    """Logits of the tau-normalised classifier, ``x . (w_j / |w_j|^tau)``, with no bias (N, C)."""
    return F.linear(feats, tau_normalize(weight, tau))


@register_into('MODELS', scopes=('mmpretrain',))
class TauNormClsHead(LinearClsHead):
    """Linear head whose predictions use tau-normalised class weights (Kang et al., "Decoupling Representation and
    Classifier for Long-Tailed Recognition", ICLR 2020; facebookresearch/classifier-balancing ``tau_norm.py``).

    Training (``loss``) uses the plain linear logits ``W x + b``, so the checkpoint is that of an ordinary
    ``LinearClsHead`` (same ``fc.weight`` / ``fc.bias`` keys) and tau can be changed after training. Predictions
    (``predict``) use ``z_j = x . w_j / |w_j|^tau`` with the **bias dropped**, as the official code does. The
    official code sweeps ``tau`` over ``linspace(0, 2, 21)`` and keeps the best on the validation split: see
    ``tools/analysis/tau_sweep.py``.

    Args:
        num_classes: number of classes.
        in_channels: feature dimension.
        tau: the normalisation exponent. Default 1.0; ``tau = 0`` predicts with the raw weights (no bias).
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, tau: float = 1.0, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels,
                         **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        if tau < 0:
            raise ValueError(f'tau must be >= 0, got {tau}')
        self.tau = float(tau)

    def predict_logits(self, feats: Tuple[torch.Tensor], tau: Optional[float] = None) -> torch.Tensor:
        """tau-normalised logits (bias dropped); ``tau`` defaults to ``self.tau``."""
        return tau_norm_logits(self.pre_logits(feats), self.fc.weight, self.tau if tau is None else tau)

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        return self._get_predictions(self.predict_logits(feats), data_samples)
