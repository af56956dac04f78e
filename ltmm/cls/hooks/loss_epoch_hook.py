"""Tell the losses the training epoch: the schedules that live in a loss (deferred re-weighting) switch on it."""
import warnings
from typing import List, Optional

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from ...core.registry import register_into
from ..losses.base import ClassificationLoss
from ..losses.drw import DeferredReweighting


def epoch_modules(model: nn.Module) -> List[nn.Module]:
    """The sub-modules of ``model`` (wrappers included) that take the epoch: those with a ``set_epoch`` method."""
    model = model.module if is_model_wrapper(model) else model
    return [m for m in model.modules() if m is not model and callable(getattr(m, 'set_epoch', None))]


@register_into('HOOKS', scopes=('mmpretrain',))
class LossEpochHook(Hook):
    """Before every training epoch, call ``set_epoch(runner.epoch)`` (0-indexed) on each sub-module of the model that
    has it, e.g. the :class:`~ltmm.cls.losses.drw.DeferredReweighting` of ``LDAMLoss(drw=...)`` and
    ``RIDELoss(drw=...)``. The schedule itself (which epoch does what) is the loss's: this hook only tells the epoch.
    Epoch-based loops only.
    """
    priority = 'NORMAL'

    def before_train_epoch(self, runner: Runner) -> None:
        modules = epoch_modules(runner.model)
        if not modules:
            raise RuntimeError(f'{type(self).__name__} found no module with set_epoch in the model; it drives the '
                               "epoch schedules of losses such as LDAMLoss(drw=dict(start_epoch=...)))")
        for module in modules:
            module.set_epoch(runner.epoch)


@register_into('HOOKS', scopes=('mmpretrain',))
class DRWHook(LossEpochHook):
    """:class:`LossEpochHook` under the name of ltmm < 0.2, whose configs set deferred re-weighting here
    (``DRWHook(milestone=160, beta=0.9999)``) instead of in the loss (``drw=dict(start_epoch=160, beta=0.9999)``).

    With ``milestone``, every loss of the model that supports deferred re-weighting is given that schedule before
    the run (a loss built without ``drw`` gets one); a loss whose ``drw`` already holds another schedule is an
    error. Without it this is ``LossEpochHook``. New configs set ``drw`` on the loss and use
    ``LossEpochHook``.

    Args:
        milestone: first (0-indexed) epoch of the re-weighted phase (``drw.start_epoch``), or None.
        beta: effective-number hyper-parameter of the re-weighted phase. Default 0.9999.
    """

    def __init__(self, milestone: Optional[int] = None, beta: float = 0.9999) -> None:
        if milestone is not None:
            DeferredReweighting.check_schedule(milestone, beta)
        self.milestone = milestone
        self.beta = float(beta)

    def before_run(self, runner: Runner) -> None:
        if self.milestone is None:
            return
        warnings.warn('DRWHook(milestone=..., beta=...) is the pre-0.2 form: set drw=dict(start_epoch=..., beta=...) '
                      'on the loss and use LossEpochHook', DeprecationWarning)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        losses = [m for m in model.modules() if isinstance(m, ClassificationLoss) and m.supports_drw]
        for loss in losses:
            loss.adopt_drw(self.milestone, self.beta)
        if not losses:
            raise RuntimeError('DRWHook(milestone=...) found no loss that supports deferred re-weighting '
                               '(LDAMLoss, RIDELoss)')
