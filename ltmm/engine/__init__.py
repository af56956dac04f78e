"""What ``tools/`` needs to launch runs."""
from .launch import add_common_args, build_runner, load_config

__all__ = ['add_common_args', 'build_runner', 'load_config']
