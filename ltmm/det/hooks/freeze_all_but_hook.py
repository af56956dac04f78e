"""Train only the named parameters of a detector: the classifier re-training stage of decoupled detection recipes
(BAGS)."""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.nn.parallel import DistributedDataParallel

from ...core.registry import register_into


@register_into('HOOKS', scopes=('mmdet',))
class FreezeAllButHook(Hook):
    """Before training, set ``requires_grad=False`` on every parameter of the model except those under the
    ``trainable`` module paths, which get ``requires_grad=True``: the official BAGS stage 2
    (FishYuLi/BalancedGroupSoftmax tools/train.py ``select_training_param``, ``selectp=1``) trains
    ``roi_head.bbox_head.fc_cls`` alone on top of a loaded baseline (``load_from``). The frozen parameters get no
    gradient, so weight decay and gradient clipping see the trainable ones only, as there. Normalisation layers keep
    the mode the model gives them (mmdet's ResNet keeps its BatchNorm in eval mode with ``norm_eval=True``).

    Distributed training: the model is wrapped in DDP before any hook runs, so DDP must tolerate the frozen
    parameters; set ``model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)``
    (``configs/bags`` do). The hook raises an error otherwise.

    Args:
        trainable: module paths (``model.named_parameters`` prefixes) whose parameters stay trainable. Default
            ``('roi_head.bbox_head.fc_cls',)``; a path that names no parameter raises a ValueError.
    """
    priority = 'NORMAL'

    def __init__(self, trainable: Sequence[str] = ('roi_head.bbox_head.fc_cls',)) -> None:
        if isinstance(trainable, str) or not trainable:
            raise ValueError(f'FreezeAllButHook: trainable must be a non-empty sequence of module paths, got '
                             f'{trainable!r}')
        self.trainable = tuple(trainable)

    def before_run(self, runner: Runner) -> None:
        if isinstance(runner.model, DistributedDataParallel) and not runner.model.find_unused_parameters:
            raise RuntimeError('FreezeAllButHook freezes parameters after DDP wrapped the model: set '
                               "model_wrapper_cfg=dict(type='MMDistributedDataParallel', "
                               'find_unused_parameters=True) in the config')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        matched = {path: 0 for path in self.trainable}
        for name, param in model.named_parameters():
            paths = [p for p in self.trainable if name == p or name.startswith(p + '.')]
            param.requires_grad_(bool(paths))
            for path in paths:
                matched[path] += param.numel()
        missing = [path for path, count in matched.items() if count == 0]
        if missing:
            raise ValueError(f'FreezeAllButHook: no parameter of the model ({type(model).__name__}) under {missing}')
        total = sum(p.numel() for p in model.parameters())
        runner.logger.info(f'FreezeAllButHook: training {", ".join(self.trainable)} only: '
                           f'{sum(matched.values()):,} of {total:,} parameters trainable')
