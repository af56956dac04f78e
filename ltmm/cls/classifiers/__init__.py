"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier``: GLMC's mixed pairs, RSG's
generator module inserted between backbone stages, RIDE's routed inference and distillation."""
from .glmc_classifier import GLMCClassifier
from .ride_classifier import RIDEClassifier, build_teacher
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['GLMCClassifier', 'RIDEClassifier', 'RSG', 'RSGClassifier', 'build_teacher', 'rsg_head_classes',
           'rsg_segments']
