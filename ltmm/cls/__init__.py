"""Long-tailed classification on mmpretrain: losses, heads, classifiers, backbones, datasets, samplers, metrics,
hooks, necks and lr schedulers, registered into mmpretrain's registries on import (with the compat shims of the pinned
stack)."""
from ..core.registry import require_framework

require_framework('cls')

from ..core.compat import patch_checkpoint_loading  # noqa: E402

patch_checkpoint_loading()

from . import (backbones, classifiers, datasets, heads, hooks, losses, metrics, necks, samplers,  # noqa: E402,F401
               schedulers)
