"""Training hooks: the loss epoch (deferred re-weighting) and decoupled training's stage 2."""
from .decoupled import DecoupledStageHook
from .loss_epoch_hook import DRWHook, LossEpochHook

__all__ = ['DecoupledStageHook', 'DRWHook', 'LossEpochHook']
