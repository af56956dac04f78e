from . import hooks  # noqa: F401  (registration side effects)
from .launch import add_common_args, build_runner, load_config

__all__ = ['add_common_args', 'load_config', 'build_runner']
