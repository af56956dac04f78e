"""Image transforms that the official long-tailed recipes use and mmpretrain's cannot express exactly."""
import math

import mmcv
from mmpretrain.datasets.transforms import Posterize

from ...core.registry import register_into


@register_into('TRANSFORMS', scopes=('mmpretrain',))
class FloorPosterize(Posterize):
    """mmpretrain's ``Posterize`` keeping ``floor(bits)`` bits where it keeps ``ceil(bits)``.

    The RandAugment of PaCo, GPaCo and BCL (timm's old ``randaugment.py``, ``PosterizeTpu``,
    dvlab-research/Parametric-Contrastive-Learning@fe56535e ``PaCo/LT/randaugment.py``
    ``_posterize_tpu_level_to_arg``) keeps ``int(4 m / 10)`` bits of a magnitude ``m ~ N(10, 0.5)`` clipped to
    ``[0, 10]``: 4 bits at ``m = 10`` (about half the draws), 3 for ``7.5 <= m < 10``. mmpretrain's ``Posterize``
    rounds up ("to align timm", a later timm), which gives 4 bits where the official op keeps 3. With
    ``magnitude_range=(0, 4)`` this transform keeps the official count. Arguments as ``Posterize``.
    """

    def transform(self, results: dict) -> dict:
        if self.random_disable():
            return results
        bits = self.bits if self.bits is not None else math.floor(self.random_magnitude())
        img = results['img']
        results['img'] = mmcv.posterize(img, bits=bits).astype(img.dtype)
        return results
