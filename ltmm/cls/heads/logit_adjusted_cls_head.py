"""Post-hoc logit adjustment as a linear head option."""
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.registry import register_into
from ...core.reweighting import log_prior
from ..losses.base import fill_loss_num_classes


@register_into('MODELS', scopes=('mmpretrain',))
class LogitAdjustedClsHead(LinearClsHead):
    """Linear head with post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment",
    ICLR 2021): predictions are ``argmax_j z_j - tau * log(pi_j)``, ``pi`` the training class prior. The official
    code (google-research ``logit_adjustment``, ``--mode=posthoc``, ``--tau=1.0``) subtracts ``log(pi^tau + 1e-12)``;
    every count must be positive here, so the epsilon (it changes the adjustment by about
    1e-12 / pi) is dropped.

    Training (``loss``) uses the plain logits ``z = W x + b`` (the post-hoc mode adjusts a model trained with
    ordinary softmax cross-entropy), so a ``LinearClsHead`` checkpoint loads as it is and the same weights can be
    tested with several ``tau``. For the loss-time adjustment use ``LogitAdjustedLoss`` instead.

    Args:
        num_classes: number of classes.
        in_channels: feature dimension.
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); ``pi_j = image_count_j / sum``. Every
            class needs at least one training image (a zero count would add ``-tau * log(1e-12) = 27.6 tau`` to
            that class, so it is refused with a ValueError).
        tau: strength of the adjustment. Default 1.0 (the official ``--tau``).
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, class_stats: ClassStatsLike, tau: float = 1.0,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels,
                         **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        stats = load_class_stats(class_stats, num_classes=num_classes)
        self.tau = float(tau)
        self.register_buffer('adjustment', self.tau * log_prior(stats.image_count), persistent=False)

    def predict_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``z - tau * log(pi)`` (the adjusted logits used for prediction)."""
        return self(feats) - self.adjustment.to(self.fc.weight.dtype)

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        return self._get_predictions(self.predict_logits(feats), data_samples)
