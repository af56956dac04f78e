"""Classifiers that change the training forward: RSG (a generator module inserted between backbone stages)."""
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['RSG', 'RSGClassifier', 'rsg_head_classes', 'rsg_segments']
