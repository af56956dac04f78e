"""LFME's self-paced expert weights (``get_distill_loss_weight`` in xiangly55/LFME ``run_network_LFME.py``): after
every validation pass, each expert's weight ``alpha_s`` is recomputed from the student's class-mean accuracy on that
expert's classes (:meth:`ltmm.cls.losses.LFMELoss.update_teacher_weight`). Before training, each expert's top-1
accuracy on the validation images of its subset is measured once (official: measured once before training)
unless the loss already has it (``expert_acc`` in the config, or restored by a resume)."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from ...core.registry import register_into
from ..losses.lfme_loss import LFMELoss


@register_into('HOOKS', scopes=('mmpretrain',))
class LFMEHook(Hook):
    """After each validation epoch, hand the student's per-subset accuracies to every ``LFMELoss`` of the model.

    The accuracies are read from the validation metrics (already gathered over the ranks by the evaluator, so every
    rank computes the same weights): a ``ShotAccuracy`` with ``many_thr=99, few_thr=21`` gives LFME's ``>= 100`` /
    ``<= 20`` groups as class means, in percent, as the experts' accuracies in ``LFMELoss(expert_acc=...)`` must be.
    Validate every epoch (``val_interval=1``), as the official. The weights live in the loss's buffers, so they are
    in checkpoints and survive a resume.

    Args:
        metric_keys: the metric of each subset, in the loss's subset order (few, medium, many by default).
    """
    priority = 'NORMAL'

    def __init__(self, metric_keys: Sequence[str] = ('lfme/few', 'lfme/medium', 'lfme/many')) -> None:
        self.metric_keys = tuple(metric_keys)

    def before_train(self, runner: Runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        losses = [m for m in model.modules() if isinstance(m, LFMELoss)]
        if not losses:
            raise RuntimeError('LFMEHook found no LFMELoss in the model')
        if all((loss.expert_acc > 0).all() for loss in losses):
            return
        experts = getattr(model, 'experts', None)
        if not experts:
            raise RuntimeError('LFMEHook: the expert accuracies are not set and the model has no experts to measure '
                               '(LFMEClassifier(experts=...) or LFMELoss(expert_acc=...))')
        acc = expert_accuracies(model, experts, losses[0].subsets, runner.val_dataloader)
        for loss in losses:
            loss.set_expert_acc(acc)
        runner.logger.info(f'LFME expert accuracies on their subsets (%): {[round(a, 2) for a in acc]}')

    def after_val_epoch(self, runner: Runner, metrics: Optional[Dict[str, float]] = None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        losses = [m for m in model.modules() if isinstance(m, LFMELoss)]
        if not losses:
            raise RuntimeError('LFMEHook found no LFMELoss in the model')
        metrics = metrics or {}
        missing = [k for k in self.metric_keys if k not in metrics]
        if missing:
            raise KeyError(f'LFMEHook: validation metrics {missing} not found (have {sorted(metrics)}); add a '
                           "ShotAccuracy(many_thr=99, few_thr=21, prefix='lfme') to val_evaluator")
        for loss in losses:
            loss.update_teacher_weight([float(metrics[k]) for k in self.metric_keys])


def expert_accuracies(model: torch.nn.Module, experts: Sequence[torch.nn.Module], subsets: Sequence[Sequence[int]],
                      dataloader) -> list:
    """Each expert's top-1 accuracy (percent) on the images of ``dataloader`` whose class is in its subset
    (prediction: the arg-max over the subset, as the expert's local label)."""
    correct, total = [0] * len(experts), [0] * len(experts)
    with torch.no_grad():
        for batch in dataloader:
            data = model.data_preprocessor(batch, False)
            label = torch.cat([s.gt_label for s in data['data_samples']]).to(data['inputs'].device)
            for k, (expert, subset) in enumerate(zip(experts, subsets)):
                index = torch.as_tensor(subset, device=label.device)
                local = (label.unsqueeze(1) == index).long().argmax(1)
                keep = (label.unsqueeze(1) == index).any(1)
                if keep.any():
                    expert.eval()
                    pred = expert(data['inputs'][keep], mode='tensor').argmax(1)
                    correct[k] += int((pred == local[keep]).sum())
                    total[k] += int(keep.sum())
    empty = [k for k, n in enumerate(total) if n == 0]
    if empty:
        raise ValueError(f'LFMEHook: the validation set has no image of the subsets of experts {empty}')
    return [100.0 * c / n for c, n in zip(correct, total)]
