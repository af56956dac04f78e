"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier`` (GLMC's mixed pairs)."""
from .glmc_classifier import GLMCClassifier

__all__ = ['GLMCClassifier']
