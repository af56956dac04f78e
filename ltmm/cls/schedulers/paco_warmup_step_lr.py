"""The per-epoch warm-up + step learning rate of PaCo's CIFAR ``adjust_learning_rate``
(dvlab-research/Parametric-Contrastive-Learning@fe56535e ``PaCo/LT/paco_cifar.py`` lines 586-597): ``(e + 1) / W``
for ``e <= W`` (so epoch ``W`` runs at ``1.1x`` the base lr with ``W = 10``), then 1, times 0.1 for each milestone
``m`` with ``e > m`` (0.1 from epoch 321, 0.01 from epoch 361 with the official milestones 320, 360). mmengine's
chained ``LinearLR`` + ``MultiStepLR`` cannot end a warm-up above the base lr and fall back to it, hence this
closed form.
"""
from typing import Sequence

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ...core.registry import register_into


def paco_warmup_step_factor(epoch: int, warmup_epochs: int = 10, milestones: Sequence[int] = (320, 360),
                            gamma: float = 0.1) -> float:
    """The lr factor of 0-indexed ``epoch``: ``(e + 1) / W`` for ``e <= W``, else ``gamma ** #{m : e > m}``."""
    if epoch <= warmup_epochs:
        return (epoch + 1) / warmup_epochs
    return gamma ** sum(epoch > m for m in milestones)


class PaCoWarmupStepParamScheduler(_ParamScheduler):
    """``value = base_value * paco_warmup_step_factor(epoch - begin, ...)``, in closed form (it overwrites the
    value, so it does not chain with other schedulers over the same epochs). Epoch-based only.

    Args:
        optimizer: the optimizer or optimizer wrapper.
        param_name: the parameter scheduled ('lr').
        warmup_epochs: ``W``. Default 10 (``paco_cifar.py`` ``--warmup_epochs`` default).
        milestones: epochs ``m`` after which the value drops by ``gamma``. Default (320, 360) (``paco_cifar.py``
            lines 590-593, hard-coded for its 400 epochs).
        gamma: the drop. Default 0.1.
        begin, end, last_step, by_epoch, verbose: as mmengine's schedulers; ``by_epoch`` must be True.
    """

    def __init__(self, optimizer, param_name: str, warmup_epochs: int = 10, milestones: Sequence[int] = (320, 360),
                 gamma: float = 0.1, begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if not by_epoch:
            raise ValueError(f'{type(self).__name__} is a per-epoch schedule (by_epoch=True)')
        if warmup_epochs < 1 or any(m < warmup_epochs for m in milestones):
            raise ValueError(f'{type(self).__name__}: needs warmup_epochs >= 1 and every milestone >= warmup_epochs, '
                             f'got warmup_epochs={warmup_epochs}, milestones={list(milestones)}')
        self.warmup_epochs = int(warmup_epochs)
        self.milestones = tuple(int(m) for m in milestones)
        self.gamma = float(gamma)
        super().__init__(optimizer, param_name=param_name, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def _get_value(self) -> list:
        factor = paco_warmup_step_factor(self.last_step, self.warmup_epochs, self.milestones, self.gamma)
        return [base * factor for base in self.base_values]


@register_into('PARAM_SCHEDULERS', scopes=('mmpretrain',))
class PaCoWarmupStepLR(LRSchedulerMixin, PaCoWarmupStepParamScheduler):
    """:class:`PaCoWarmupStepParamScheduler` of the learning rate. PaCo's CIFAR-100-LT schedule (400 epochs):
    ``dict(type='PaCoWarmupStepLR', warmup_epochs=10, milestones=(320, 360), by_epoch=True, begin=0, end=400)``."""
