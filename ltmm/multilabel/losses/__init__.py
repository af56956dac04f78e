"""The Distribution-Balanced loss family."""
from .distribution_balanced_loss import DistributionBalancedLoss

__all__ = ['DistributionBalancedLoss']
