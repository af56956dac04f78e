"""Long-tailed classification on mmpretrain: losses, heads, backbones, classifiers, datasets, samplers, metrics and
hooks, registered into mmpretrain's registries on import (with the compat shims of the pinned stack)."""
from ..core.registry import require_framework

require_framework('cls')

from ..core.compat import patch_checkpoint_loading  # noqa: E402

patch_checkpoint_loading()

# imported for their registration
from . import backbones, classifiers, datasets, heads, hooks, losses, metrics, samplers  # noqa: E402,F401
