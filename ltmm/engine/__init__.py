"""What ``tools/`` needs to launch runs; importing it registers every task package whose framework is installed, so
a config without ``custom_imports`` still finds ltmm's modules."""
from ..core.registry import import_installed_tasks
from .launch import add_common_args, build_classifier, build_runner, end_distributed, load_config, model_config

TASKS = tuple(import_installed_tasks())  # the task packages registered in this process

__all__ = ['TASKS', 'add_common_args', 'build_classifier', 'build_runner', 'end_distributed', 'load_config',
           'model_config']
