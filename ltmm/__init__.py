"""ltmm: long-tailed recognition on OpenMMLab.

``import ltmm`` is light (numpy only): the framework-free core (``ltmm.core``: class statistics, splits, per-class
records, the LVIS evaluator) imports without torch or any OpenMMLab package. A task package registers its modules
into its framework's registries when imported, and applies the compat shims of the pinned stack:

- ``ltmm.cls`` and ``ltmm.multilabel`` into mmpretrain (configs: ``custom_imports=dict(imports=['ltmm.cls'])``);
- ``ltmm.det`` into mmdet (``custom_imports=dict(imports=['ltmm.det'])``).

``ltmm.engine`` (what ``tools/`` launch) imports every task package whose framework is installed. See
docs/architecture.md.
"""
from .core.class_stats import ClassStats, load_class_stats
from .version import __version__

__all__ = ['__version__', 'ClassStats', 'load_class_stats']
