"""Long-tailed detection on mmdet: the bbox-head contract losses, the ROG head, LT-Shapes and the fast LVIS
evaluator, registered into mmdet's registries on import."""
from ..core.registry import require_framework

require_framework('det')

from . import datasets, evaluation, heads, losses  # noqa: E402,F401  (registration)
