"""Training hooks: the loss epoch (deferred re-weighting), decoupled training's stage 2, SBCL's re-clustering, LFME's
self-paced expert weights, KCL's queue pre-fill."""
from .decoupled import DecoupledStageHook
from .lfme_hook import LFMEHook
from .loss_epoch_hook import DRWHook, LossEpochHook
from .queue_prefill_hook import QueuePrefillHook
from .sbcl_cluster_hook import SBCLClusterHook

__all__ = ['DecoupledStageHook', 'DRWHook', 'LFMEHook', 'LossEpochHook', 'QueuePrefillHook', 'SBCLClusterHook']
