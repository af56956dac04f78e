"""Classifiers whose training step is more than mmpretrain's ``ImageClassifier``: GLMC's mixed pairs, RSG's
generator module inserted between backbone stages, RIDE's routed inference and distillation, the momentum encoder and
labelled queue of the supervised MoCo-style contrastive methods, the all-views-through-one-encoder classifier of the
in-batch ones (BCL), MDCS's [weak; strong] batch, DeiT-LT's student with its frozen CNN teacher, and LFME's student
with its frozen subset experts."""
from .deit_lt_classifier import DeiTLTClassifier
from .frozen_model import FrozenModelHolder, build_teacher
from .glmc_classifier import GLMCClassifier
from .labelled_queue import LabelledQueue
from .lfme_classifier import LFMEClassifier
from .mdcs_classifier import MDCSClassifier
from .multi_view_contrast_classifier import MultiViewContrastClassifier
from .ncl_classifier import NCLClassifier, NCLCosineLinear
from .ncl_moco_classifier import NCLMoCoClassifier
from .queue_contrast_classifier import MomentumEncoder, QueueContrastClassifier
from .ride_classifier import RIDEClassifier
from .rsg import RSG, RSGClassifier, rsg_head_classes, rsg_segments

__all__ = ['DeiTLTClassifier', 'FrozenModelHolder', 'GLMCClassifier', 'LabelledQueue', 'LFMEClassifier',
           'MDCSClassifier', 'MomentumEncoder', 'MultiViewContrastClassifier', 'NCLClassifier', 'NCLCosineLinear',
           'NCLMoCoClassifier', 'QueueContrastClassifier', 'RIDEClassifier', 'RSG', 'RSGClassifier', 'build_teacher',
           'rsg_head_classes', 'rsg_segments']
