"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier``: GLMC's mixed pairs, RSG's
generator module inserted between backbone stages, the momentum encoder and labelled queue of the supervised
MoCo-style contrastive methods."""
from .glmc_classifier import GLMCClassifier
from .labelled_queue import LabelledQueue
from .queue_contrast_classifier import MomentumEncoder, QueueContrastClassifier
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['GLMCClassifier', 'LabelledQueue', 'MomentumEncoder', 'QueueContrastClassifier', 'RSG', 'RSGClassifier',
           'rsg_head_classes', 'rsg_segments']
