"""DeiT-LT (Rangwani et al., "DeiT-LT: Distillation Strikes Back for Vision Transformer Training on Long-Tailed
Datasets", CVPR 2024): CE on the CLS token, hard distillation from a CNN teacher through the DIST token, deferred
class-balanced re-weighting of the distillation term indexed by the teacher's label."""
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy, soft_targets
from .drw import DeferredReweighting


def deit_lt_loss(cls_score: torch.Tensor, dist_score: torch.Tensor, target: torch.Tensor,
                 teacher_score: torch.Tensor, dist_weight: Optional[torch.Tensor] = None,
                 alpha: float = 0.5) -> torch.Tensor:
    """``(1 - alpha) * mean_i CE(z_cls_i, y_i) + alpha * sum_i w_{t_i} CE(z_dist_i, t_i) / sum_i w_{t_i}``,
    ``t_i = argmax f_T(x_i)``.

    Args:
        cls_score: ``(N, C)`` CLS-head logits.
        dist_score: ``(N, C)`` DIST-head logits.
        target: ``(N, C)`` class probabilities of the (possibly mixed, smoothed) labels.
        teacher_score: ``(N, C)`` teacher logits on the same batch; only its argmax is used (hard distillation).
        dist_weight: ``(C,)`` class weights of the distillation CE, indexed by the teacher label; None for ones.
        alpha: weight of the distillation term. Default 0.5 (official ``--distillation-alpha``).
    """
    teacher_label = teacher_score.detach().argmax(dim=1)
    cls_loss = soft_cross_entropy(cls_score, target).mean()
    dist_loss = F.cross_entropy(dist_score, teacher_label, weight=dist_weight)
    return (1.0 - alpha) * cls_loss + alpha * dist_loss


@register_into('MODELS', scopes=('mmpretrain',))
class DeiTLTLoss(ClassificationLoss):
    """DeiT-LT loss on a distilled ViT's two heads: see :func:`deit_lt_loss`.

    Official code: val-iisc/DeiT-LT ``losses.py`` (``DistillationLoss``, ``distillation_type='hard'`` in all the
    shipped scripts) and ``engine.py`` (``train_one_epoch``):

    - ``L_cls``: soft-target CE of the CLS logits on the (mixup/cutmix, label-smoothed) targets: the official
      ``SoftTargetCrossEntropy``; hard labels are one-hot targets, so this is also the plain CE of the DRW phase.
    - ``L_dist``: CE of the DIST logits with the teacher's argmax label (hard distillation); from the DRW epoch on,
      PyTorch's weighted CE with the effective-number weights ``w_c = (1 - beta) / (1 - beta^n_c)`` rescaled to
      ``sum_c w_c = C`` (``beta = 0.9999``, official ``--drw``), indexed by the **teacher's** label and divided by
      ``sum_i w_{t_i}`` (``F.cross_entropy(weight=w)``, as the official).
    - ``L = (1 - alpha) L_cls + alpha L_dist``, ``alpha = 0.5`` (official ``--distillation-alpha``).
    - Label smoothing of the CLS targets, ``y <- (1 - eps) y + eps / C`` with ``eps = 0.1`` (official
      ``--smoothing``, applied by timm's ``Mixup`` to the mixed targets: the same, smoothing being linear).

    The epoch comes from ``LossEpochHook`` (``set_epoch``); the weights in force are buffers of ``drw`` (in the
    checkpoint: a resumed run is in the right phase). ``--weighted-baseloss`` (CB weights on the CLS term) is off in
    all the official scripts and not implemented. Deviation: the official CIFAR scripts also turn mixup off for
    ``L_cls`` at the DRW epoch (``--no-mixup-drw``); here the batch augments of the data preprocessor stay as
    configured (the DRW phase is the last 100 of 1200 epochs).

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        alpha: weight of the distillation term in [0, 1]. Default 0.5 (official).
        drw_epoch: first (0-indexed) epoch of the re-weighted distillation; None never re-weights. Official 1100
            on CIFAR (1200 epochs), 1200 on ImageNet-LT (1400), 900 on iNat18 (1000).
        beta: effective-number hyper-parameter. Default 0.9999 (official).
        label_smoothing: ``eps`` in [0, 1) of the CLS targets. Default 0.1 (official ``arguments.py``).
        loss_weight: multiplies the loss. Default 1.0.
    """
    uses_teacher = True

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, alpha: float = 0.5,
                 drw_epoch: Optional[int] = None, beta: float = 0.9999, label_smoothing: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.alpha = float(alpha)
        self.label_smoothing = float(label_smoothing)
        self.drw = DeferredReweighting(self.class_counts, start_epoch=drw_epoch, beta=beta)

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-indexed): the distillation weights switch to CB(beta) at ``drw_epoch``."""
        self.drw.set_epoch(epoch)

    @property
    def dist_weight(self) -> torch.Tensor:
        """The class weights ``(C,)`` of the distillation term in force (all ones before ``drw_epoch``)."""
        return self.drw.class_weight

    def forward(self, cls_score: torch.Tensor, dist_score: torch.Tensor, label: torch.Tensor,
                teacher_score: Optional[torch.Tensor] = None, **kwargs) -> torch.Tensor:
        """The loss of the CLS logits ``(N, C)``, the DIST logits ``(N, C)``, the labels (``(N,)`` indices or
        ``(N, C)`` soft targets) and the teacher logits ``(N, C)`` on the same batch."""
        if teacher_score is None:
            raise ValueError('DeiTLTLoss needs teacher_score (the teacher logits on the same batch)')
        for name, score in (('cls_score', cls_score), ('dist_score', dist_score), ('teacher_score', teacher_score)):
            if score.dim() != 2 or score.size(1) != self.num_classes:
                raise ValueError(f'DeiTLTLoss: {name} must be (N, {self.num_classes}), got {tuple(score.shape)}')
        if not cls_score.shape == dist_score.shape == teacher_score.shape:
            raise ValueError(f'DeiTLTLoss: cls_score {tuple(cls_score.shape)}, dist_score {tuple(dist_score.shape)} '
                             f'and teacher_score {tuple(teacher_score.shape)} differ in shape')
        target = soft_targets(label, self.num_classes).to(cls_score.dtype)
        target = target * (1.0 - self.label_smoothing) + self.label_smoothing / self.num_classes
        loss = deit_lt_loss(cls_score, dist_score, target, teacher_score,
                            self.dist_weight.to(dist_score.dtype), self.alpha)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'alpha={self.alpha}, label_smoothing={self.label_smoothing}'
