"""Many / medium / few-shot accuracy."""
from .shot_accuracy import ShotAccuracy

__all__ = ['ShotAccuracy']
