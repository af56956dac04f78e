"""Long-tailed classification on mmpretrain: losses, heads, backbones, datasets, samplers, metrics and hooks,
registered into mmpretrain's registries on import."""
from ..core.registry import require_framework

require_framework('cls')

from . import backbones, datasets, heads, hooks, losses, metrics, samplers  # noqa: E402,F401  (registration)
