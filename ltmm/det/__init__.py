"""Long-tailed detection on mmdet: the bbox-head contract losses (BAGS among them), the ROG head, the classifier-only
training hook, post-hoc score calibration (FRACAL, NorCal), LT-Shapes and the fast LVIS evaluator, registered into
mmdet's registries on import."""
from ..core.registry import require_framework

require_framework('det')

from ..core.compat import patch_checkpoint_loading, patch_lvis_eval  # noqa: E402

patch_checkpoint_loading()
patch_lvis_eval()

from . import calibration, datasets, evaluation, heads, hooks, losses  # noqa: E402,F401  (registration)
