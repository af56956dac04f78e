"""Stage 2 of decoupled training (cRT / LWS): freeze the representation, choose its BatchNorm mode, optionally
re-initialise the classifier."""
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

from ...core.registry import register_into

BN_MODES = ('train', 'eval')


@register_into('HOOKS', scopes=('mmpretrain',))
class DecoupledStageHook(Hook):
    """Classifier re-balancing stage of decoupled training (Kang et al., "Decoupling Representation and Classifier
    for Long-Tailed Recognition", ICLR 2020; facebookresearch/classifier-balancing).

    With ``load_from`` pointing at the stage-1 checkpoint, the hook

    - freezes the parameters of ``frozen_modules`` (``requires_grad=False``, as the official ``fix: true``), before
      the first iteration;
    - sets their BatchNorm mode (``bn_mode``):

      * ``'train'``: BatchNorm layers stay in training mode, so their running statistics keep adapting to the
        class-balanced batches of stage 2. This is what the official cRT / LWS code does (it puts every network in
        ``train()`` each epoch) and what MiSLAS calls ``shift_bn``. It changes the representation seen at test time.
      * ``'eval'``: BatchNorm layers use and keep their stage-1 statistics (a strictly frozen representation);
        re-applied before every training iteration, after the runner's ``model.train()``.

    - with ``reinit_head=True`` (cRT), re-initialises the head after the checkpoint is loaded: a fresh head is built
      from ``cfg.model.head`` and initialised (``init_weights``) exactly as at the start of a run, and its weights are
      copied in. The official cRT skips loading the classifier, which has the same effect. Not repeated when a run is
      resumed (``runner.iter > 0``).

    LWS keeps the stage-1 classifier: use ``LWSClsHead`` (its ``fc`` is frozen) and ``reinit_head=False``.

    A method whose classifier stage is the end of one run (SHIKE: epochs 180-199 of 200, ``SHIKEClsHead``) sets
    ``start_epoch``: the freezing then happens before that epoch (and before the first epoch of a run resumed past
    it) instead of before the run. The optimiser then skips the frozen parameters (their gradients stay None), so
    neither weight decay nor momentum moves them.

    Distributed training: the model is wrapped in DDP before any hook runs, so DDP must tolerate the frozen
    parameters; set ``model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)`` (the
    configs in ``configs/decoupling`` do). The hook raises an error otherwise.

    Args:
        frozen_modules: names of the model's sub-modules to freeze (``model.get_submodule`` paths). Default
            ``('backbone', 'neck')``; a name the model lacks raises a ValueError (``neck`` is skipped when the model
            has none).
        bn_mode: ``'train'`` (official, default) or ``'eval'``, see above.
        reinit_head: re-initialise the head (cRT). Default False.
        start_epoch: the (0-indexed) epoch from which the modules are frozen. Default 0 (the whole run, before it
            starts); not combined with ``reinit_head``.
    """
    priority = 'NORMAL'

    def __init__(self, frozen_modules: Sequence[str] = ('backbone', 'neck'), bn_mode: str = 'train',
                 reinit_head: bool = False, start_epoch: int = 0) -> None:
        if bn_mode not in BN_MODES:
            raise ValueError(f'bn_mode must be one of {BN_MODES}, got {bn_mode!r}')
        if int(start_epoch) != start_epoch or start_epoch < 0 or (start_epoch > 0 and reinit_head):
            raise ValueError(f'start_epoch must be an integer >= 0 and 0 with reinit_head, got {start_epoch} '
                             f'(reinit_head={reinit_head})')
        self.frozen_modules = tuple(frozen_modules)
        self.bn_mode = bn_mode
        self.reinit_head = reinit_head
        self.start_epoch = int(start_epoch)
        self._norms: List[_BatchNorm] = []
        self._frozen = False

    def before_run(self, runner: Runner) -> None:
        if isinstance(runner.model, DistributedDataParallel) and not runner.model.find_unused_parameters:
            raise RuntimeError('DecoupledStageHook freezes parameters after DDP wrapped the model: set '
                               "model_wrapper_cfg=dict(type='MMDistributedDataParallel', "
                               'find_unused_parameters=True) in the config')
        self._frozen = False
        if self.start_epoch == 0:
            self._freeze(runner)

    def before_train_epoch(self, runner: Runner) -> None:
        if not self._frozen and runner.epoch >= self.start_epoch:
            self._freeze(runner)

    def _freeze(self, runner: Runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._norms = []
        for name in self.frozen_modules:
            module = _submodule(model, name)
            if module is None:
                continue
            module.requires_grad_(False)
            self._norms += [m for m in module.modules() if isinstance(m, _BatchNorm)]
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
        self._frozen = True
        runner.logger.info(f'DecoupledStageHook: froze {", ".join(self.frozen_modules)} from epoch {runner.epoch}; '
                           f'{trainable:,} of {total:,} '
                           f'parameters trainable; BatchNorm mode of the frozen part: {self.bn_mode} '
                           f'({len(self._norms)} layers)')
        if trainable == 0:
            raise ValueError(f'DecoupledStageHook: freezing {self.frozen_modules} leaves no trainable parameter')

    def before_train(self, runner: Runner) -> None:
        if not self.reinit_head or runner.iter > 0:
            return
        head_cfg = runner.cfg.get('model', {}).get('head')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if head_cfg is None or not isinstance(getattr(model, 'head', None), nn.Module):
            raise ValueError('DecoupledStageHook(reinit_head=True) needs a model with a `head` built from '
                             'cfg.model.head (e.g. mmpretrain ImageClassifier)')
        from mmpretrain.registry import MODELS

        fresh = MODELS.build(head_cfg)
        fresh.init_weights()
        model.head.load_state_dict(fresh.state_dict())
        runner.logger.info(f'DecoupledStageHook: re-initialised the head ({type(fresh).__name__}) after loading '
                           f'{runner.cfg.get("load_from")}')

    def before_train_iter(self, runner: Runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        if self.bn_mode == 'eval':
            for norm in self._norms:
                norm.eval()


def _submodule(model: nn.Module, name: str) -> Optional[nn.Module]:
    """``model.get_submodule(name)``; None for a missing ``neck`` (an optional part of mmpretrain classifiers)."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        if name == 'neck':
            return None
        raise ValueError(f'DecoupledStageHook: the model ({type(model).__name__}) has no sub-module {name!r} to '
                         'freeze') from None
