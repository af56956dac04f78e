"""Classification losses, one file per method, on the one template of ``base.py``."""
from .balanced_bce_loss import BalancedBCELoss
from .balanced_softmax_loss import BalancedSoftmaxLoss
from .base import ClassificationLoss
from .class_balanced_loss import ClassBalancedLoss
from .drw import DeferredReweighting
from .label_aware_smoothing_loss import LabelAwareSmoothingLoss
from .lade_loss import LADELoss
from .ldam_loss import LDAMLoss
from .logit_adjusted_loss import LogitAdjustedLoss
from .ride_loss import RIDELoss
from .softmax_eql_loss import SoftmaxEQLLoss
from .tlc_loss import TLCLoss
from .weighted_softmax_loss import WeightedSoftmaxLoss

__all__ = ['BalancedBCELoss', 'BalancedSoftmaxLoss', 'ClassificationLoss', 'ClassBalancedLoss', 'DeferredReweighting',
           'LabelAwareSmoothingLoss', 'LADELoss', 'LDAMLoss', 'LogitAdjustedLoss', 'RIDELoss', 'SoftmaxEQLLoss',
           'TLCLoss', 'WeightedSoftmaxLoss']
