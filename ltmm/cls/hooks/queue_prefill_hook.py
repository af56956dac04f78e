"""KCL's queue pre-fill (Kang et al., ICLR 2021; official bingykang/BalFeat@ba60412d ``main_kcl.py:
init_key_queue``, re-derived from ``shared/research/contrastive.md`` §6.1): before epoch 0 the labelled queue of a
:class:`~ltmm.cls.classifiers.QueueContrastClassifier` is filled with the keys of ``K / B_global`` training batches
(model in train mode, no loss, no gradient, no momentum update), so the first steps already see ``k`` same-class
positives for most anchors instead of an empty (-1) queue.

Deviation: the official pre-fill runs the whole model, the query encoder included, whose only lasting effect is on
the query's BatchNorm running statistics (overwritten within a few hundred training steps); here only the key
encoder runs.
"""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from ...core.distributed import rank_and_world_size
from ...core.registry import register_into


@register_into('HOOKS', scopes=('mmpretrain',))
class QueuePrefillHook(Hook):
    """Fill the key queue before the first training step (module docstring).

    Runs in ``before_train`` only when the run starts at iteration 0, so a ``--resume``d run keeps the queue of its
    checkpoint and never refills. Under DDP every rank walks its own shard of the training loader and the keys of all
    ranks are gathered into the queue (:meth:`LabelledQueue.enqueue`). The sampler is set to epoch -1 first (BalFeat's
    ``train_sampler.set_epoch(-1)``), so the pre-fill sees another shuffle than epoch 0.

    Args:
        log_interval: log progress every this many batches. Default 10 (BalFeat prints every 10).
    """
    priority = 'NORMAL'

    def __init__(self, log_interval: int = 10) -> None:
        self.log_interval = int(log_interval)

    def before_train(self, runner: Runner) -> None:
        if runner.iter > 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'prefill_queue'):
            raise RuntimeError(f'QueuePrefillHook needs a QueueContrastClassifier, got {type(model).__name__}')
        loader = runner.train_dataloader
        global_batch = loader.batch_size * rank_and_world_size()[1]
        num_batches = model.queue.size // global_batch
        if num_batches == 0:
            raise ValueError(f'QueuePrefillHook: the queue of {model.queue.size} keys is smaller than the global batch '
                             f'{global_batch}')
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(-1)
        model.train()
        done = 0
        for data in loader:
            data = model.data_preprocessor(data, True)
            model.prefill_queue(data['inputs'], data['data_samples'])
            done += 1
            if done % self.log_interval == 0 or done == num_batches:
                runner.logger.info(f'queue pre-fill: {done} / {num_batches} batches')
            if done == num_batches:
                break
        if done < num_batches:
            runner.logger.warning(f'queue pre-fill: the loader ended after {done} of {num_batches} batches')
