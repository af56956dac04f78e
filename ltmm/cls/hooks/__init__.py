"""Training hooks: the loss epoch (deferred re-weighting) and decoupled training's stage 2,
LFME's self-paced expert weights."""
from .decoupled import DecoupledStageHook
from .lfme_hook import LFMEHook
from .loss_epoch_hook import DRWHook, LossEpochHook

__all__ = ['DecoupledStageHook', 'DRWHook', 'LFMEHook', 'LossEpochHook']
