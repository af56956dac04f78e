"""Post-hoc logit adjustment as a linear head option, with an optional shift to a known target class prior."""
import os
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from ...core.class_stats import ClassStats, ClassStatsLike, load_class_stats
from ...core.registry import register_into
from ...core.reweighting import log_prior
from ..losses.base import fill_loss_num_classes

TargetPrior = Union[Sequence[float], np.ndarray, torch.Tensor, ClassStatsLike]


def target_log_prior(target_prior: TargetPrior, num_classes: int) -> torch.Tensor:
    """``log pi_t`` (C,), float32, of a target class distribution.

    Args:
        target_prior: per-class counts or probabilities as a list / array (normalised here), or class statistics:
            anything :func:`ltmm.core.class_stats.load_class_stats` accepts (a dict, a class_stats JSON, or an
            annotation file such as a ``path label`` test list, whose ``image_count`` is used).
        num_classes: ``C``; the distribution must have exactly this many classes.

    Raises:
        ValueError: a length other than ``C``, a negative or non-finite value, or a class with zero mass (its
            ``log pi_t`` would be ``-inf``), naming the class index.
    """
    if isinstance(target_prior, (str, os.PathLike, Mapping, ClassStats)):
        stats = load_class_stats(target_prior, num_classes, allow_zero=True)
        values, source = stats.image_count.astype(np.float64), stats.source
    else:
        if isinstance(target_prior, torch.Tensor):
            target_prior = target_prior.detach().cpu().numpy()
        values, source = np.asarray(target_prior, dtype=np.float64), 'the list'
        if values.ndim != 1 or len(values) != num_classes:
            raise ValueError(f'target_prior: {values.size} values of shape {values.shape} for num_classes='
                             f'{num_classes}; give one count or probability per class')
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f'target_prior: counts / probabilities must be finite and >= 0, got {values.tolist()}')
    empty = np.flatnonzero(values <= 0)
    if len(empty):
        raise ValueError(f'target_prior from {source}: class index {", ".join(map(str, empty[:5]))} has zero mass; '
                         'the shift adds log pi_t, which is -inf there (give every class a positive count)')
    return log_prior(values)


@register_into('MODELS', scopes=('mmpretrain',))
class LogitAdjustedClsHead(LinearClsHead):
    """Linear head with post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment",
    ICLR 2021): predictions are ``argmax_j z_j - tau * log(pi_j)``, ``pi`` the training class prior. The official
    code (google-research ``logit_adjustment``, ``--mode=posthoc``, ``--tau=1.0``) subtracts ``log(pi^tau + 1e-12)``;
    every count must be positive here, so the epsilon (it changes the adjustment by about
    1e-12 / pi) is dropped.

    With ``target_prior`` the prediction also moves to a known test class distribution ``pi_t``:
    ``z_j - tau * log(pi_j) + log(pi_t,j)``, the Bayes rule for a test set whose label distribution is ``pi_t``
    (Hong et al., LADE, CVPR 2021; hyperconnect/LADE ``notebooks/imagenet-shift-calib.ipynb``
    ``get_prob``):

    - ``tau=1.0``: PC Softmax, a model trained with plain cross-entropy tested as ``z - log pi + log pi_t``;
    - ``tau=0.0``: a model whose logits already estimate the balanced posterior (LADE, Balanced Softmax, the
      logit-adjusted loss) tested as ``z + log pi_t``.

    ``target_prior=None`` is the uniform target (a constant shift, no change to the prediction). The shift is an
    option of this head rather than a head of its own because it is the same post-hoc rule with the target prior
    made explicit (the head already removes the training prior; the default target is uniform), and it keeps one
    head, one checkpoint layout, for every "change the prior at test time" use.

    Training (``loss``) uses the plain logits ``z = W x + b`` (the post-hoc mode adjusts a model trained with
    ordinary softmax cross-entropy), so a ``LinearClsHead`` checkpoint loads as it is and the same weights can be
    tested with several ``tau`` or target priors. For the loss-time adjustment use ``LogitAdjustedLoss`` instead.

    Args:
        num_classes: number of classes.
        in_channels: feature dimension.
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); ``pi_j = image_count_j / sum``. Every
            class needs at least one training image (a zero count would add ``-tau * log(1e-12) = 27.6 tau`` to
            that class, so it is refused with a ValueError).
        tau: strength of the adjustment. Default 1.0 (the official ``--tau``).
        target_prior: the test class distribution ``pi_t``: None (default, uniform), a list of per-class counts or
            probabilities, or class statistics (a class_stats JSON, or an annotation list of the test split); see
            :func:`target_log_prior`. Every class needs a positive mass.
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, class_stats: ClassStatsLike, tau: float = 1.0,
                 target_prior: Optional[TargetPrior] = None, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels,
                         **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        stats = load_class_stats(class_stats, num_classes=num_classes)
        self.tau = float(tau)
        adjustment = self.tau * log_prior(stats.image_count)
        if target_prior is not None:
            adjustment = adjustment - target_log_prior(target_prior, num_classes)
        self.register_buffer('adjustment', adjustment, persistent=False)

    def predict_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``z - tau * log(pi) + log(pi_t)`` (the adjusted logits used for prediction; no ``pi_t`` term for a
        uniform target)."""
        return self(feats) - self.adjustment.to(self.fc.weight.dtype)

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        return self._get_predictions(self.predict_logits(feats), data_samples)
