"""Detection classification losses on the bbox-head contract base (EQL, EQLv2, Federated, GOL, ECM, BAGS, sigmoid CE),
the one-stage Equalized Focal Loss, and ROG's ranking loss."""
from .balanced_group_softmax_loss import BalancedGroupSoftmaxLoss
from .bbox_head_contract import BBoxHeadContractLoss
from .ecm_loss import ECMLoss
from .equalization_loss import EqualizationLoss
from .equalization_loss_v2 import EqualizationLossV2
from .equalized_focal_loss import EqualizedFocalLoss
from .federated_loss import FederatedLoss
from .gumbel_loss import GumbelLoss
from .rog_ranking_loss import ROGRankingLoss
from .sigmoid_ce_loss import SigmoidCELoss

__all__ = ['BalancedGroupSoftmaxLoss', 'BBoxHeadContractLoss', 'ECMLoss', 'EqualizationLoss', 'EqualizationLossV2',
           'EqualizedFocalLoss', 'FederatedLoss', 'GumbelLoss', 'ROGRankingLoss', 'SigmoidCELoss']
