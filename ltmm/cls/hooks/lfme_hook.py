"""LFME's self-paced expert weights (``get_distill_loss_weight`` in xiangly55/LFME ``run_network_LFME.py``): after
every validation pass, each expert's weight ``alpha_s`` is recomputed from the student's class-mean accuracy on that
expert's classes (:meth:`ltmm.cls.losses.LFMELoss.update_teacher_weight`). Before training, each expert's top-1
accuracy on the validation images of its subset is measured once (official: measured once before training)
unless the loss already has it (``expert_acc`` in the config, or restored by a resume); and, when the loss has the
curriculum on (``curriculum_half_epochs``), the instance base weights are computed once from every training image's
expert confidence on its class (``eval_instance_hardness``; kept in the loss's checkpointed state instead of the
official ``tot_weights_*.npy`` cache, so a resume reuses them and another training set cannot)."""
import copy
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
        if any(loss.curriculum_half_epochs is not None and loss.instance_base_weight.numel() == 0 for loss in losses):
            set_curriculum_base_weights(runner, model, losses)
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


def set_curriculum_base_weights(runner: Runner, model: torch.nn.Module, losses: Sequence[LFMELoss]) -> None:
    """Each training image's expert confidence on its class (the softmax of the expert whose subset holds the class,
    at the class's local label) over the training set in order, with the validation pipeline (no augmentation: the
    official pass's transform is not recorded in the research note; an assumption), handed to every curriculum
    loss as its base weights."""
    experts = getattr(model, 'experts', None)
    if not experts:
        raise RuntimeError('LFMEHook: the curriculum weights need the experts (LFMEClassifier(experts=...))')
    dataset = copy.deepcopy(runner.cfg.train_dataloader.dataset)
    if 'pipeline' not in dataset:
        raise ValueError('LFMEHook: the curriculum weights need a plain training dataset config with a pipeline '
                         f'(got {dataset.get("type")}, a wrapper?)')
    dataset['pipeline'] = copy.deepcopy(runner.cfg.val_dataloader.dataset.pipeline)
    loader = runner.build_dataloader(dict(batch_size=runner.cfg.val_dataloader.get('batch_size', 64), num_workers=0,
                                          sampler=dict(type='DefaultSampler', shuffle=False), dataset=dataset))
    subsets = losses[0].subsets
    confidences, labels = {}, {}
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            label = torch.cat([s.gt_label for s in data['data_samples']]).to(data['inputs'].device)
            index = [int(s.sample_idx) for s in data['data_samples']]
            conf = torch.full(label.shape, float('nan'), device=label.device)
            for expert, subset in zip(experts, subsets):
                members = torch.as_tensor(subset, device=label.device)
                inside = label.unsqueeze(1) == members
                keep = inside.any(1)
                if keep.any():
                    expert.eval()
                    prob = expert(data['inputs'][keep], mode='tensor').float().softmax(1)
                    conf[keep] = prob.gather(1, inside[keep].long().argmax(1, keepdim=True)).squeeze(1)
            for i, c, y in zip(index, conf.tolist(), label.tolist()):
                confidences[i], labels[i] = c, y
    if sorted(confidences) != list(range(len(confidences))):
        raise RuntimeError('LFMEHook: the training set pass did not cover every index once')
    outside = sorted({labels[i] for i, c in confidences.items() if c != c})  # NaN: no expert holds the class
    if outside:
        raise ValueError(f'LFMEHook: classes {outside} are in no expert subset, so they have no curriculum weight')
    order = range(len(confidences))
    for loss in losses:
        loss.set_instance_base_weights(torch.tensor([confidences[i] for i in order]),
                                       torch.tensor([labels[i] for i in order]))
    runner.logger.info(f'LFME curriculum: base weights of {len(confidences)} training images from the experts')
