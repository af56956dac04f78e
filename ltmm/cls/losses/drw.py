"""Deferred re-weighting (DRW) of LDAM-DRW (Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware
Margin Loss", NeurIPS 2019), owned by the losses that use it (``LDAMLoss``, ``RIDELoss``)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from ...core.reweighting import effective_number_weights


class DeferredReweighting(nn.Module):
    """Train unweighted, then weight every class by its effective-number weight from ``start_epoch`` on.

    Official rule (kaidic/LDAM-DRW ``cifar_train.py``, ``--train_rule DRW``): ``betas = [0, 0.9999]``,
    ``idx = epoch // 160`` on a 200-epoch run, so epochs 0-159 are unweighted and 160-199 weighted with
    ``w_j = (1 - beta) / (1 - beta^n_j)`` rescaled to ``sum_j w_j = C`` (``beta = 0`` gives all ones), together with
    the learning-rate drop. RIDE's ``epoch > reweight_epoch`` on 1-indexed epochs is the same switch.

    The loss learns the epoch from ``LossEpochHook`` (:meth:`set_epoch`, before every training epoch). The weights
    in force and the switch are buffers, so they are in the checkpoint and a resumed run starts in the right phase.

    Buffers:
        class_weight: ``(C,)`` the weights in force (all ones before ``start_epoch``).
        active: scalar bool, whether the re-weighted phase has started.
        epoch: scalar int64, the last epoch set (-1 before any).

    Args:
        class_counts: ``(C,)`` training counts ``n_j``.
        start_epoch: first (0-indexed) epoch of the re-weighted phase; None never re-weights. 160 on CIFAR-LT (200
            epochs, official); RIDE switches at 80 % of training.
        beta: effective-number hyper-parameter of the re-weighted phase. Default 0.9999 (official).
    """

    def __init__(self, class_counts: torch.Tensor, start_epoch: Optional[int] = None, beta: float = 0.9999) -> None:
        super().__init__()
        self.check_schedule(start_epoch, beta)
        self.start_epoch = start_epoch
        self.beta = float(beta)
        reweighted = effective_number_weights(class_counts, self.beta).to(class_counts.device)
        self.register_buffer('reweighted', reweighted, persistent=False)  # the weights of the re-weighted phase
        self.register_buffer('class_weight', torch.ones_like(reweighted))
        self.register_buffer('active', torch.zeros((), dtype=torch.bool, device=reweighted.device))
        self.register_buffer('epoch', torch.full((), -1, dtype=torch.int64, device=reweighted.device))

    @staticmethod
    def check_schedule(start_epoch: Optional[int], beta: float) -> None:
        """A ValueError naming the bad value of a DRW schedule."""
        if start_epoch is not None and (isinstance(start_epoch, bool) or not isinstance(start_epoch, int)
                                        or start_epoch < 0):
            raise ValueError(f'drw start_epoch must be None or a non-negative epoch, got {start_epoch!r}')
        if not 0.0 <= beta < 1.0:
            raise ValueError(f'drw beta must be in [0, 1), got {beta}')

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (0-indexed): weights ``CB(beta)`` from ``start_epoch`` on, all ones before. The phase is
        logged at the first epoch set and when it changes."""
        active = self.start_epoch is not None and epoch >= self.start_epoch
        if int(self.epoch) < 0 or bool(self.active) != active:
            print_log(f'DRW: epoch {epoch}: ' + (f'class-balanced weights (beta={self.beta})' if active else
                                                 f'unweighted (re-weighting from epoch {self.start_epoch})'),
                      logger='current')
        self.epoch.fill_(epoch)
        self.active.fill_(active)
        self.class_weight.copy_(self.reweighted if active else torch.ones_like(self.reweighted))

    def extra_repr(self) -> str:
        return f'start_epoch={self.start_epoch}, beta={self.beta}'
