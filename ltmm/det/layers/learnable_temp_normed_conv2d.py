"""A NormedConv2d mask predictor with a learnable temperature: the mask logits of the APA (and FRACAL) LVIS recipes.

Official code: kostas1515/AGLU@ed45253 (and kostas1515/FRACAL), ``mmdetection_v3.2/mmdet/models/layers/
normed_predictor.py``, ``NormedConv2d(learnable_temp=True)``, used by
``configs/activations/mask_rcnn_r50_fpn_8x2_sample1e-3_mstrain_lvis_2x.py``.
"""
import torch
import torch.nn.functional as F
from mmdet.models.layers import NormedConv2d
from torch import Tensor, nn

from ...core.registry import register_into


@register_into('MODELS', scopes=('mmdet',))
class LearnableTempNormedConv2d(NormedConv2d):
    """mmdet's ``NormedConv2d`` (cosine logits ``tau <w_c, x> / ((|w_c| + eps)(|x| + eps)) + b_c``, norms over the input
    channels) with ``tau = t ** 2`` for a learnable scalar ``t``.

    ``t`` is the parameter ``tempearture`` (the official name and spelling, so official checkpoints load), set to
    ``init_value`` at construction and again by ``init_weights``, which mmengine runs before ``FCNMaskHead``'s own
    re-init of the weight and bias (Kaiming, 0): the official start is ``tau = 4.5 ** 2 = 20.25``. ``t`` is an
    ordinary parameter (the official runs apply weight decay 1e-4 to it).

    Args:
        *args: ``nn.Conv2d`` arguments.
        init_value: the initial ``t``. Default 4.5 (official ``learnable_init_value``).
        power, eps, norm_over_kernel: as mmdet's ``NormedConv2d`` (defaults 1.0, 1e-6, False, as the official).
        **kwargs: ``nn.Conv2d`` keyword arguments.

    Registered under a new name (mmdet owns ``NormedConv2d``, without these arguments). Deviations from the official
    code: ``t`` follows the module's device (official: created with ``device='cuda'``); the official ``init_bias``
    argument is not offered (``FCNMaskHead.init_weights`` sets the bias to 0 after it in the official runs too) and
    ``init_weights`` leaves the weight to the head (the official normal(0, 0.01) draw is overwritten the same way).
    """

    def __init__(self, *args, init_value: float = 4.5, power: float = 1.0, eps: float = 1e-6,
                 norm_over_kernel: bool = False, **kwargs) -> None:
        super().__init__(*args, power=power, eps=eps, norm_over_kernel=norm_over_kernel, **kwargs)
        self.init_value = float(init_value)
        self.tempearture = nn.Parameter(torch.tensor(self.init_value))

    def init_weights(self) -> None:
        """``t = init_value``."""
        with torch.no_grad():
            self.tempearture.fill_(self.init_value)

    def forward(self, x: Tensor) -> Tensor:
        if self.norm_over_kernel:
            w_norm = self.weight.flatten(1).norm(dim=1).pow(self.power)[:, None, None, None]
        else:
            w_norm = self.weight.norm(dim=1, keepdim=True).pow(self.power)
        x_ = x / (x.norm(dim=1, keepdim=True).pow(self.power) + self.eps) * self.tempearture ** 2
        return F.conv2d(x_, self.weight / (w_norm + self.eps), self.bias, self.stride, self.padding, self.dilation,
                        self.groups)
