"""Sigmoid cross-entropy over C+1 logits with an objectness logit: the sigmoid baseline of EQLv2 and ROG."""
from typing import Optional

from torch import Tensor

from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss, onehot_bce_sum


@register_into('MODELS', scopes=('mmdet',))
class SigmoidCELoss(BBoxHeadContractLoss):
    """Sigmoid cross-entropy over C+1 logits with an objectness column (the sigmoid baseline of EQLv2 and ROG,
    EricZsy/ROG ``SigmoidCrossEntropyLoss``).

    ``L = sum_ij BCEWithLogits(z_ij, y_ij) / N`` with one-hot targets over C+1 columns (a background RoI is positive
    for column C); test scores ``p_c * (1 - p_bg)``. ``label_weights`` and ``avg_factor`` are ignored, as in the
    official code.

    Args:
        num_classes: number of foreground classes C.
        test_with_obj: multiply class scores by ``1 - p_bg`` at test time. Default True.
        loss_weight: multiplier of the loss. Default 1.0.
    """

    def __init__(self, num_classes: int, test_with_obj: bool = True, loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=True, test_with_obj=test_with_obj, loss_weight=loss_weight)

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        return self.loss_weight * onehot_bce_sum(cls_score, labels) / max(cls_score.size(0), 1)
