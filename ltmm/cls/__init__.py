"""Long-tailed classification on mmpretrain: losses, heads, classifiers, backbones, datasets, samplers, metrics,
hooks, necks and lr schedulers, registered into mmpretrain's registries on import (with the compat shims of the pinned
stack)."""
from ..core.registry import require_framework

require_framework('cls')

from ..core.compat import patch_checkpoint_loading, patch_mmcv_adjust_hue  # noqa: E402

patch_checkpoint_loading()
patch_mmcv_adjust_hue()

from ..core import aglu  # noqa: E402,F401  (registers APA and AGLU)
from . import backbones, classifiers, datasets, heads, hooks, losses, metrics, necks, samplers, schedulers  # noqa: E402,F401
