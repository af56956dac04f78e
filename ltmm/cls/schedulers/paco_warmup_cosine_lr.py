"""The per-epoch warm-up + cosine learning rate of PaCo's ``adjust_learning_rate`` (Cui et al., ICCV 2021,
dvlab-research/Parametric-Contrastive-Learning), which GLMC copies as ``paco_adjust_learning_rate``
(ynu-yangpeng/GLMC@2c0261cc ``Trainer.py``) for ImageNet-LT and iNaturalist 2018. Its ``+ 1`` offsets are not
expressible with mmengine's chained ``LinearLR`` + ``CosineAnnealingLR`` (the cosine's phase is shifted by the
warm-up), hence this closed form.
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ...core.registry import register_into


def paco_warmup_cosine_factor(epoch: int, max_epochs: int, warmup_epochs: int = 10, warmup_inclusive: bool = False,
                              one_epoch_late: bool = False) -> float:
    """The lr factor of 0-indexed ``epoch`` of a ``max_epochs`` run.

    PaCo's function of an epoch ``e`` is ``(e + 1) / W`` during the warm-up (``e < W``, or ``e <= W`` with
    ``warmup_inclusive``), then ``(1 + cos(pi (e - W + 1) / (E - W + 1))) / 2``. PaCo sets it at the start of epoch
    ``e``. GLMC sets it after epoch ``e``'s validation, for epoch ``e + 1`` (``one_epoch_late``): its epoch 0 runs at
    the base lr, epoch ``k >= 1`` at the function of ``k - 1``. GLMC also ends the warm-up with ``e <= W``
    (``warmup_inclusive``), so its epochs 1..11 run at 0.1, ..., 1.0, 1.1 times the base lr, then
    ``(1 + cos(pi (k - 10) / (E - 9))) / 2``.
    """
    e = epoch - 1 if one_epoch_late else epoch
    if e < 0:
        return 1.0
    if e < warmup_epochs or (warmup_inclusive and e == warmup_epochs):
        return (e + 1) / warmup_epochs
    return 0.5 * (1.0 + math.cos(math.pi * (e - warmup_epochs + 1) / (max_epochs - warmup_epochs + 1)))


class PaCoWarmupCosineParamScheduler(_ParamScheduler):
    """``value = base_value * paco_warmup_cosine_factor(epoch - begin, end - begin, ...)``, in closed form (it
    overwrites the value, so it does not chain with other schedulers over the same epochs). Epoch-based only.

    Args:
        optimizer: the optimizer or optimizer wrapper.
        param_name: the parameter scheduled ('lr').
        warmup_epochs: ``W``. Default 10 (PaCo's and GLMC's ``warmup_epochs = 10``). 0: no warm-up, the cosine
            ``(1 + cos(pi (e + 1) / (E + 1))) / 2`` from the first epoch (BCL's ``adjust_lr``, ``--warmup_epochs 0``).
        warmup_inclusive: the warm-up includes epoch ``W`` (GLMC's ``epoch <= warmup_epochs``). Default False
            (PaCo's ImageNet-LT ``epoch < warmup_epochs``).
        one_epoch_late: each value is set for the epoch after the one it is computed for (GLMC). Default False.
        begin: first epoch. Default 0.
        end: epoch after the last; the schedule's ``E = end - begin``. Required (finite).
        last_step, by_epoch, verbose: as mmengine's schedulers; ``by_epoch`` must be True.
    """

    def __init__(self, optimizer, param_name: str, warmup_epochs: int = 10, warmup_inclusive: bool = False,
                 one_epoch_late: bool = False, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if not by_epoch:
            raise ValueError(f'{type(self).__name__} is a per-epoch schedule (by_epoch=True)')
        if end == INF or end - begin <= warmup_epochs or warmup_epochs < 0:
            raise ValueError(f'{type(self).__name__}: needs a finite end with end - begin > warmup_epochs >= 0, '
                             f'got begin={begin}, end={end}, warmup_epochs={warmup_epochs}')
        if warmup_inclusive and warmup_epochs < 1:
            raise ValueError(f'{type(self).__name__}: warmup_inclusive needs warmup_epochs >= 1, got {warmup_epochs}')
        self.warmup_epochs = int(warmup_epochs)
        self.warmup_inclusive = bool(warmup_inclusive)
        self.one_epoch_late = bool(one_epoch_late)
        super().__init__(optimizer, param_name=param_name, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def _get_value(self) -> list:
        factor = paco_warmup_cosine_factor(self.last_step, self.end - self.begin, self.warmup_epochs,
                                           self.warmup_inclusive, self.one_epoch_late)
        return [base * factor for base in self.base_values]


@register_into('PARAM_SCHEDULERS', scopes=('mmpretrain',))
class PaCoWarmupCosineLR(LRSchedulerMixin, PaCoWarmupCosineParamScheduler):
    """:class:`PaCoWarmupCosineParamScheduler` of the learning rate. GLMC's ImageNet-LT schedule (135 epochs):
    ``dict(type='PaCoWarmupCosineLR', warmup_epochs=10, warmup_inclusive=True, one_epoch_late=True, by_epoch=True,
    begin=0, end=135)``."""
