"""Long-tail losses, one file per method, registered into mmdet's and/or mmpretrain's MODELS."""
from .balanced_bce_loss import BalancedBCELoss  # noqa: F401
from .balanced_softmax_loss import BalancedSoftmaxLoss  # noqa: F401
from .class_balanced_loss import ClassBalancedLoss  # noqa: F401
from .distribution_balanced_loss import DistributionBalancedLoss  # noqa: F401
from .equalization_loss import EqualizationLoss  # noqa: F401
from .equalization_loss_v2 import EqualizationLossV2  # noqa: F401
from .federated_loss import FederatedLoss  # noqa: F401
from .ldam_loss import LDAMLoss  # noqa: F401
from .logit_adjusted_loss import LogitAdjustedLoss  # noqa: F401
from .ride_loss import RIDELoss  # noqa: F401
from .rog_ranking_loss import ROGRankingLoss  # noqa: F401
from .sigmoid_cls_loss import SigmoidCELoss  # noqa: F401
from .softmax_eql_loss import SoftmaxEQLLoss  # noqa: F401
