"""Training hooks: the loss epoch (deferred re-weighting), decoupled training's stage 2, SBCL's re-clustering."""
from .decoupled import DecoupledStageHook
from .loss_epoch_hook import DRWHook, LossEpochHook
from .sbcl_cluster_hook import SBCLClusterHook

__all__ = ['DecoupledStageHook', 'DRWHook', 'LossEpochHook', 'SBCLClusterHook']
