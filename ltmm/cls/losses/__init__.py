"""Classification losses, one file per method, on the one template of ``base.py``."""
from .area_loss import AREAHook, AREALoss
from .balanced_bce_loss import BalancedBCELoss
from .balanced_softmax_loss import BalancedSoftmaxLoss
from .balpoe_loss import BalPoELoss
from .base import ClassificationLoss
from .bcl_loss import BCLLoss, bcl_loss
from .class_balanced_loss import ClassBalancedLoss
from .deit_lt_loss import DeiTLTLoss, deit_lt_loss
from .drw import DeferredReweighting
from .gpaco_loss import GPaCoLoss
from .kcl_loss import KCLLoss
from .label_aware_smoothing_loss import LabelAwareSmoothingLoss
from .lade_loss import LADELoss
from .ldam_loss import LDAMLoss
from .lfme_loss import LFMELoss, lfme_loss
from .logit_adjusted_loss import LogitAdjustedLoss
from .mdcs_loss import MDCSLoss
from .ncl_loss import NCLLoss
from .paco_loss import PaCoLoss, paco_loss
from .reslt_loss import ResLTLoss
from .ride_loss import RIDEDistillLoss, RIDELoss
from .sade_loss import SADELoss
from .sbcl_loss import SBCLLoss, SBCLQueueLoss, sbcl_loss, sbcl_queue_loss
from .shike_loss import SHIKELoss, shike_loss
from .softmax_eql_loss import SoftmaxEQLLoss
from .softmax_focal_loss import SoftmaxFocalLoss
from .supcon_loss import SupConLoss, supcon_loss
from .tlc_loss import TLCLoss
from .tsc_loss import TSCLoss
from .weighted_softmax_loss import WeightedSoftmaxLoss

__all__ = ['AREAHook', 'AREALoss', 'BalancedBCELoss', 'BalancedSoftmaxLoss', 'BalPoELoss', 'BCLLoss', 'bcl_loss',
           'ClassBalancedLoss', 'ClassificationLoss', 'DeferredReweighting', 'DeiTLTLoss', 'deit_lt_loss', 'GPaCoLoss',
           'KCLLoss', 'LabelAwareSmoothingLoss', 'LADELoss', 'LDAMLoss', 'LFMELoss', 'lfme_loss', 'LogitAdjustedLoss',
           'MDCSLoss', 'NCLLoss', 'PaCoLoss', 'paco_loss', 'ResLTLoss', 'RIDEDistillLoss', 'RIDELoss', 'SADELoss',
           'SBCLLoss', 'sbcl_loss', 'SBCLQueueLoss', 'sbcl_queue_loss', 'SHIKELoss', 'shike_loss', 'SoftmaxEQLLoss',
           'SoftmaxFocalLoss', 'SupConLoss', 'supcon_loss', 'TLCLoss', 'TSCLoss',
           'WeightedSoftmaxLoss']
