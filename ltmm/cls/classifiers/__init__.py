"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier``: GLMC's mixed pairs, RSG's
generator module inserted between backbone stages."""
from .glmc_classifier import GLMCClassifier
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['GLMCClassifier', 'RSG', 'RSGClassifier', 'rsg_head_classes', 'rsg_segments']
