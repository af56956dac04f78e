"""Multi-label long tail on mmpretrain: the Distribution-Balanced loss family, VOC-LT / COCO-MLT and the
LT-Shapes multi-label view, head / medium / tail mAP; the split protocol in ``long_tail_split``."""
from ..core.registry import require_framework

require_framework('multilabel')

from ..core.compat import patch_checkpoint_loading  # noqa: E402

patch_checkpoint_loading()

from . import datasets, losses, metrics  # noqa: E402,F401  (registration)
