"""Register ltmm modules straight into the registries of the OpenMMLab frameworks (mmdet, mmpretrain), as their
own ``projects/`` do: configs keep ``default_scope='mmdet'`` or ``'mmpretrain'`` and only add
``custom_imports=dict(imports=['ltmm'], allow_failed_imports=False)``.

ltmm never registers a name a framework already owns (no ``force=True``), so mmdet's and mmpretrain's own modules
still register when their packages are imported later.
"""
import importlib
from typing import Callable, Iterable, Optional, TypeVar

T = TypeVar('T')

SCOPES = ('mmdet', 'mmpretrain')


def register_into(registry: str, scopes: Iterable[str] = SCOPES, name: Optional[str] = None) -> Callable[[T], T]:
    """Class decorator: register into ``<scope>.registry.<registry>`` (e.g. 'MODELS', 'METRICS') of each scope.

    Args:
        registry: attribute name of the registry in ``<scope>.registry``.
        scopes: frameworks to register into.
        name: registered name; the class name when None.
    """
    def deco(obj: T) -> T:
        for scope in scopes:
            node = getattr(importlib.import_module(f'{scope}.registry'), registry)
            node.register_module(name=name, module=obj)
        return obj

    return deco
