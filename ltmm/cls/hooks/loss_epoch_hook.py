"""Deferred re-weighting (DRW) of LDAM-DRW (Cao et al., NeurIPS 2019)."""
from typing import List

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ...models.losses.reweighting import effective_number_weights
from ...registry import register_into


def reweightable_losses(model: nn.Module) -> List[nn.Module]:
    """The modules of ``model`` (wrappers included) with ``set_class_weight`` and a ``class_counts`` buffer."""
    return [m for m in model.modules() if callable(getattr(m, 'set_class_weight', None))
            and hasattr(m, 'class_counts')]


@register_into('HOOKS', scopes=('mmpretrain',))
class DRWHook(Hook):
    """Deferred re-weighting: train unweighted, then switch the loss to class-balanced weights at ``milestone``.

    Before every training epoch ``e`` (0-indexed, ``runner.epoch``) the hook sets, on every loss of the model that
    has ``set_class_weight`` (``LDAMLoss``), the per-class weights ``w = CB(beta)`` (effective number,
    ``w_j = (1 - beta) / (1 - beta^n_j)``, rescaled to ``sum_j w_j = C``) when ``e >= milestone`` and all ones
    before. Official rule (kaidic/LDAM-DRW ``cifar_train.py``, ``--train_rule DRW``): ``betas = [0, 0.9999]``,
    ``idx = epoch // 160`` on a 200-epoch run, so epochs 0-159 are unweighted and 160-199 weighted, together with
    the learning-rate drop. Set per epoch, so a resumed run gets the right weights. Epoch-based loops only.

    Args:
        milestone: first (0-indexed) epoch of the re-weighted phase. Default 160 (CIFAR-LT, 200 epochs).
        beta: effective-number hyper-parameter of the re-weighted phase. Default 0.9999.
    """
    priority = 'NORMAL'

    def __init__(self, milestone: int = 160, beta: float = 0.9999) -> None:
        if milestone < 0:
            raise ValueError(f'milestone must be a non-negative epoch, got {milestone}')
        if not 0.0 <= beta < 1.0:
            raise ValueError(f'beta must be in [0, 1), got {beta}')
        self.milestone = int(milestone)
        self.beta = float(beta)
        self._reweighted = None

    def before_train_epoch(self, runner: Runner) -> None:
        losses = reweightable_losses(runner.model)
        if not losses:
            raise RuntimeError('DRWHook found no loss with set_class_weight in the model; use it with LDAMLoss')
        reweighted = runner.epoch >= self.milestone
        for loss in losses:
            weight = effective_number_weights(loss.class_counts, self.beta) if reweighted else None
            loss.set_class_weight(weight)
        if reweighted != self._reweighted:
            runner.logger.info(f'DRWHook: epoch {runner.epoch}: ' + (
                f'class-balanced weights (beta={self.beta}) on {len(losses)} loss(es)' if reweighted
                else 'unweighted loss'))
        self._reweighted = reweighted
