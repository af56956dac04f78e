"""Detection classification losses on the bbox-head contract base, and ROG's ranking loss."""
from .bbox_head_contract import BBoxHeadContractLoss
from .equalization_loss import EqualizationLoss
from .equalization_loss_v2 import EqualizationLossV2
from .federated_loss import FederatedLoss
from .rog_ranking_loss import ROGRankingLoss
from .sigmoid_ce_loss import SigmoidCELoss

__all__ = ['BBoxHeadContractLoss', 'EqualizationLoss', 'EqualizationLossV2', 'FederatedLoss', 'ROGRankingLoss',
           'SigmoidCELoss']
