from .shot_accuracy import ShotAccuracy, shot_groups

__all__ = ['ShotAccuracy', 'shot_groups']
