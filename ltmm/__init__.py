"""ltmm: long-tailed recognition on OpenMMLab.

Importing it applies the compat shims of the pinned stack and registers the modules of every task package whose
framework is installed (``ltmm.cls`` and ``ltmm.multilabel`` into mmpretrain's registries, ``ltmm.det`` into
mmdet's); ``ltmm.core`` needs neither. See docs/architecture.md.
"""
from .core.class_stats import ClassStats, load_class_stats
from .core.compat import patch_checkpoint_loading, patch_lvis_eval
from .core.registry import import_installed_tasks
from .version import __version__

patch_checkpoint_loading()
patch_lvis_eval()
TASKS = tuple(import_installed_tasks())  # the task packages registered in this process

__all__ = ['__version__', 'ClassStats', 'load_class_stats', 'TASKS']
