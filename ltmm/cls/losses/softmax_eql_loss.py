"""Softmax equalization loss (SEQL), the classification form of EQL (Tan et al., "Equalization Loss for Long-Tailed
Object Recognition", CVPR 2020, Sec. 5)."""
from typing import Optional

import torch

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss, soft_cross_entropy

MASKED_LOGIT = -1e7  # the official value; finite, so that 0 * log_softmax stays 0 for soft labels


def softmax_eql_loss(cls_score: torch.Tensor, target: torch.Tensor, tail: torch.Tensor,
                     ignore_prob: float = 0.9) -> torch.Tensor:
    """Per-sample SEQL, shape (N,): cross-entropy after removing, from each sample's softmax denominator, every
    tail-class negative logit with probability ``ignore_prob`` (one Bernoulli draw per sample and class).

    Args:
        cls_score: logits (N, C), float32.
        target: class probabilities (N, C); every class with ``y > 0`` is kept.
        tail: boolean (C,), the classes ``T_lambda`` whose negatives may be removed.
        ignore_prob: ``gamma``, the probability of removing a tail negative.
    """
    dropped = torch.rand(cls_score.shape, device=cls_score.device) < ignore_prob
    remove = tail & dropped & (target <= 0)
    return soft_cross_entropy(cls_score.masked_fill(remove, MASKED_LOGIT), target)


@register_into('MODELS', scopes=('mmpretrain',))
class SoftmaxEQLLoss(ClassificationLoss):
    """Softmax equalization loss: ``L = -log(exp(z_y) / sum_j w_j exp(z_j))`` with
    ``w_j = 1 - beta_j * T_lambda(f_j) * (1 - y_j)``, ``beta_j ~ Bernoulli(gamma)`` drawn per sample and class,
    ``T_lambda(f) = [f <= lambda]`` on the class frequency ``f_j = n_j / sum_k n_k``.

    Implementations: the EQL author's reference ``SoftmaxEQL(lambda_, ignore_prob)`` (tztztztztz/eql.detectron2
    issue #9) and the long-tail survey's ``SEQLLoss`` (Vanint/Awesome-LongTailed-Learning ``Main-codebase/loss/
    SEQLLoss.py``, ``gamma=0.9``, ``lambda_n=0.00043`` on ImageNet-LT); both replace the removed logits by ``-1e7``.
    The author's reference thresholds the *count* (``count > lambda_`` is a head class); ltmm follows the survey and
    the EQL paper and thresholds the *frequency*: pass ``lambda_ = count_threshold / num_train_images`` to
    reproduce a count threshold. With ImageNet-LT's 115,846 images, 4.3e-4 makes classes with <= 49 images tail
    classes; BagofTricks-LT uses 0.005 on CIFAR-LT. A class without training images is a tail class (defined).
    Draws use the global torch generator (seeded by mmengine's ``randomness``). Normalisation: the batch mean.
    Soft labels (mixup): every class with a positive target keeps its logit; the loss is the soft cross-entropy.

    Args:
        class_stats: training class counts, anything ``ltmm.core.class_stats.load_class_stats`` accepts.
        num_classes: ``C``, checked against ``class_stats`` when given.
        lambda_: frequency threshold ``lambda`` of the tail classes. Default 4.3e-4 (ImageNet-LT).
        ignore_prob: ``gamma``, probability of removing a tail negative. Default 0.9.
        loss_weight: multiplies the loss. Default 1.0.
        reduction: 'none', 'mean' or 'sum'. Default 'mean'.
    """

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None, lambda_: float = 4.3e-4,
                 ignore_prob: float = 0.9, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction=reduction, allow_zero=True)
        if not 0.0 <= ignore_prob <= 1.0:
            raise ValueError(f'ignore_prob must be in [0, 1], got {ignore_prob}')
        if lambda_ < 0:
            raise ValueError(f'lambda_ must be >= 0, got {lambda_}')
        self.lambda_ = float(lambda_)
        self.ignore_prob = float(ignore_prob)
        freq = self.class_counts / self.class_counts.sum().clamp_min(1.0)
        self.register_buffer('tail', freq <= self.lambda_, persistent=False)

    def per_sample_loss(self, logits: torch.Tensor, target: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return softmax_eql_loss(logits, target, self.tail, self.ignore_prob)
