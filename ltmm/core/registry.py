"""Register ltmm modules straight into the registries of the OpenMMLab frameworks that are installed (mmpretrain,
mmdet), as their own ``projects/`` do: configs keep ``default_scope='mmdet'`` or ``'mmpretrain'`` and only add
``custom_imports=dict(imports=['ltmm.det'], allow_failed_imports=False)`` (or ``'ltmm.cls'``, ``'ltmm.multilabel'``).

Each task package needs one framework (``TASKS``): ``ltmm.cls`` and ``ltmm.multilabel`` plug into mmpretrain,
``ltmm.det`` into mmdet. ``import ltmm`` imports none of them (the core needs no framework);
:func:`import_installed_tasks` (``ltmm.engine`` calls it) imports the packages whose framework is installed; importing
one whose framework is missing raises a ``ModuleNotFoundError`` that names the package to install.

ltmm never registers a name a framework already owns (no ``force=True``), so mmdet's and mmpretrain's own modules
still register when their packages are imported later.
"""
import functools
import importlib
from typing import Callable, Dict, Iterable, List, Optional, TypeVar

T = TypeVar('T')

FRAMEWORKS = ('mmpretrain', 'mmdet')
# task package -> (framework it plugs into, what it holds, for the error message)
TASKS: Dict[str, tuple] = {
    'cls': ('mmpretrain', 'long-tailed classification: losses, heads, backbones, datasets, samplers, metrics, hooks'),
    'multilabel': ('mmpretrain', 'multi-label long tail: Distribution-Balanced loss, VOC-LT / COCO-MLT, split mAP'),
    'det': ('mmdet', 'long-tailed detection: EQL, EQLv2, Federated, ROG, GOL, ECM, BAGS, FRACAL / NorCal, APA / AGLU, '
                     'LT-Shapes, the fast LVIS metric'),
}


@functools.lru_cache(maxsize=None)
def framework_installed(name: str) -> bool:
    """Whether the framework ``name`` imports. Only its absence counts as "not installed": an installed framework
    that fails to import (e.g. mmcv without its ops) raises, so that a broken install is not skipped silently."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (e.name == name or e.name.startswith(f'{name}.')):
            return False
        raise
    return True


def require_framework(task: str) -> None:
    """Raise a ``ModuleNotFoundError`` naming the missing package when ``ltmm.<task>``'s framework is not installed.

    Called first thing by each task package's ``__init__``.
    """
    framework, content = TASKS[task]
    if not framework_installed(framework):
        raise ModuleNotFoundError(
            f'ltmm.{task} ({content}) needs {framework}, which is not installed; install it as '
            f'requirements/openmmlab.txt pins it (`make install` does)', name=framework)


def import_installed_tasks() -> List[str]:
    """Import (and so register) every task package whose framework is installed; returns their names."""
    tasks = [task for task, (framework, _) in TASKS.items() if framework_installed(framework)]
    for task in tasks:
        importlib.import_module(f'ltmm.{task}')
    return tasks


def register_into(registry: str, scopes: Iterable[str] = FRAMEWORKS,
                  name: Optional[str] = None) -> Callable[[T], T]:
    """Class decorator: register into ``<scope>.registry.<registry>`` (e.g. 'MODELS', 'METRICS') of each scope that
    is installed.

    Args:
        registry: attribute name of the registry in ``<scope>.registry``.
        scopes: frameworks to register into; the ones not installed are skipped (the task package has already
            checked its own framework).
        name: registered name; the class name when None.
    """
    def deco(obj: T) -> T:
        for scope in scopes:
            if framework_installed(scope):
                node = getattr(importlib.import_module(f'{scope}.registry'), registry)
                node.register_module(name=name, module=obj)
        return obj

    return deco
