"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier``: GLMC's mixed pairs, RSG's
generator module inserted between backbone stages, the momentum encoder and labelled queue of the supervised
MoCo-style contrastive methods, the all-views-through-one-encoder classifier of the in-batch ones (BCL)."""
from .glmc_classifier import GLMCClassifier
from .labelled_queue import LabelledQueue
from .multi_view_contrast_classifier import MultiViewContrastClassifier
from .queue_contrast_classifier import MomentumEncoder, QueueContrastClassifier
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['GLMCClassifier', 'LabelledQueue', 'MomentumEncoder', 'MultiViewContrastClassifier',
           'QueueContrastClassifier', 'RSG', 'RSGClassifier', 'rsg_head_classes', 'rsg_segments']
