"""The per-epoch warm-up + cosine learning rate of SHIKE's ``CosineAnnealingLRWarmup`` (Jin et al., CVPR 2023;
jinyan-06/SHIKE@2b04b62d ``utils.py``, read to check facts, re-implemented). For its epoch ``e`` (counted from the
scheduler's first epoch) with the reference lr ``b`` (``--learning_rate``, 0.05), the peak ``p`` (``warmup_lr``),
``W`` warm-up epochs and ``T`` epochs (``T_max``)::

    lr(e) = b + (p - b) (e - 1) / (W - 1)                      for e < W
    lr(e) = p (1 + cos(pi (e - W) / (T - W))) / 2              otherwise (eta_min 0)

so the warm-up starts one step below ``b`` (``(e - 1)``): SHIKE's stage 1 (``p`` 0.15, T 180) runs 0.025, 0.05,
0.075, 0.1, 0.125, then 0.15 down to 0; its stage 2 (a second optimiser and scheduler from epoch 180: ``p`` 0.1,
T 20) runs 0.0375, ..., 0.0875, then 0.1 down to 0.1 (1 + cos(14 pi / 15)) / 2 = 0.0011 at its last epoch. The
warm-up's offset and the cosine's restart at a peak above the base are not expressible with mmengine's chained
``LinearLR`` + ``CosineAnnealingLR``, hence this closed form; one instance per stage, each over its own
``[begin, end)``.
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ...core.registry import register_into


def shike_warmup_cosine_factor(epoch: int, max_epochs: int, warmup_epochs: int = 5, peak_factor: float = 3.0) -> float:
    """``lr(e) / b`` of the module docstring for ``e = epoch`` (0-indexed from the stage's first epoch),
    ``T = max_epochs``, ``W = warmup_epochs`` and ``p / b = peak_factor``."""
    if epoch < warmup_epochs:
        return 1.0 + (peak_factor - 1.0) * (epoch - 1) / (warmup_epochs - 1)
    return peak_factor * (1.0 + math.cos(math.pi * (epoch - warmup_epochs) / (max_epochs - warmup_epochs))) / 2.0


class SHIKEWarmupCosineParamScheduler(_ParamScheduler):
    """``value = base_value * shike_warmup_cosine_factor(epoch - begin, end - begin, ...)``, in closed form (it
    overwrites the value, so it does not chain with other schedulers over the same epochs). Epoch-based only. The
    optimiser's lr is the official reference ``b`` (``--learning_rate`` 0.05), not the peak.

    Args:
        optimizer: the optimizer or optimizer wrapper.
        param_name: the parameter scheduled ('lr').
        warmup_epochs: ``W`` (>= 2, as the official ``assert``). Default 5 (both official stages).
        peak_factor: ``p / b``. Default 3.0 (stage 1: ``warmup_lr`` 0.15 over ``--learning_rate`` 0.05; stage 2
            uses 2.0, 0.1 / 0.05).
        begin: first epoch of the stage. Default 0.
        end: epoch after its last; ``T = end - begin`` (stage 1: ``T_max = epochs - 20`` = 180; stage 2: 20).
            Required (finite).
        last_step, by_epoch, verbose: as mmengine's schedulers; ``by_epoch`` must be True.
    """

    def __init__(self, optimizer, param_name: str, warmup_epochs: int = 5, peak_factor: float = 3.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        if not by_epoch:
            raise ValueError(f'{type(self).__name__} is a per-epoch schedule (by_epoch=True)')
        if end == INF or warmup_epochs < 2 or end - begin <= warmup_epochs:
            raise ValueError(f'{type(self).__name__}: needs a finite end with end - begin > warmup_epochs >= 2, got '
                             f'begin={begin}, end={end}, warmup_epochs={warmup_epochs}')
        if not peak_factor > 0:
            raise ValueError(f'{type(self).__name__}: peak_factor must be > 0, got {peak_factor}')
        self.warmup_epochs = int(warmup_epochs)
        self.peak_factor = float(peak_factor)
        super().__init__(optimizer, param_name=param_name, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def _get_value(self) -> list:
        factor = shike_warmup_cosine_factor(self.last_step, self.end - self.begin, self.warmup_epochs,
                                            self.peak_factor)
        return [base * factor for base in self.base_values]


@register_into('PARAM_SCHEDULERS', scopes=('mmpretrain',))
class SHIKEWarmupCosineLR(LRSchedulerMixin, SHIKEWarmupCosineParamScheduler):
    """:class:`SHIKEWarmupCosineParamScheduler` of the learning rate. SHIKE's CIFAR-100-LT schedule (optimiser lr
    0.05, 200 epochs, classifier stage from epoch 180): ``dict(type='SHIKEWarmupCosineLR', peak_factor=3.0,
    begin=0, end=180)`` and ``dict(type='SHIKEWarmupCosineLR', peak_factor=2.0, begin=180, end=200)``."""
