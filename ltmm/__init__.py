"""ltmm: long-tailed recognition on OpenMMLab. Importing it applies the compat shims of the pinned stack and
registers every ltmm module into mmdet's and mmpretrain's registries."""
from .version import __version__
from .compat import patch_checkpoint_loading, patch_lvis_eval

patch_checkpoint_loading()
patch_lvis_eval()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration side effects)
from .class_stats import ClassStats, load_class_stats  # noqa: E402

__all__ = ['__version__', 'ClassStats', 'load_class_stats']
