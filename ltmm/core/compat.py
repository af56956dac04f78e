"""The few shims the pinned stack (torch 2.14, mmengine 0.10.7, lvis 0.5.3, numpy 2) needs, applied on
``import ltmm``. Each one is narrow: nothing here changes behaviour for code that does not go through the patched
entry point.

- Checkpoints: torch >= 2.6 loads with ``weights_only=True`` by default and rejects the objects mmengine stores
  beside the weights (``HistoryBuffer``, numpy scalars and arrays in the message hub), so ``--resume`` fails.
  :func:`patch_checkpoint_loading` wraps mmengine's ``CheckpointLoader.load_checkpoint`` so that, inside that call
  only, exactly those classes are allow-listed; weights-only loading stays on, and a checkpoint that carries any
  other pickled object is refused with an error naming the file and the object.
- lvis-api 0.5.3 calls ``np.float`` (removed in numpy 1.24) in ``LVISEval.accumulate``. :func:`patch_lvis_eval`
  provides the alias for the duration of that method only, so numpy stays unpatched for everyone else.
- Distributed training without CUDA: mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally in
  ``init_dist``. :func:`init_distributed` starts a gloo process group first (the Runner then skips ``init_dist``),
  and :func:`cpu_ddp_wrapper_cfg` stops the Runner from passing CUDA ``device_ids`` to DDP.
"""
import functools
import os
import pickle
import re
from datetime import timedelta
from typing import Any, Callable, List, Optional

import numpy as np
import torch

__all__ = ['mmengine_checkpoint_globals', 'patch_checkpoint_loading', 'patch_lvis_eval', 'init_distributed',
           'cpu_ddp_wrapper_cfg', 'CheckpointSecurityError']


class CheckpointSecurityError(pickle.UnpicklingError):
    """A checkpoint holds a pickled object that is not on the allow-list of what mmengine checkpoints store."""


_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_attribute(obj: Any, name: str) -> Any:
    """Stands in for ``getattr`` while unpickling. HistoryBuffer pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; that, and nothing else, is resolved. (The class-level registry of those
    methods is only filled once a HistoryBuffer exists, so the built-in four are named here.)"""
    from mmengine.logging import HistoryBuffer

    if obj is HistoryBuffer and (name in _HISTORY_BUFFER_STATISTICS or name in HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'Unsupported global: getattr({obj!r}, {name!r}) is not allowed')


def mmengine_checkpoint_globals() -> List[Any]:
    """The classes and functions an mmengine 0.10.x training checkpoint pickles besides tensors: the message hub's
    ``HistoryBuffer`` (with its statistics methods) and the numpy arrays / scalars / dtypes it keeps."""
    from mmengine.logging import HistoryBuffer

    multiarray = (np._core if hasattr(np, '_core') else np.core).multiarray
    allowed: List[Any] = [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
                          (_history_buffer_attribute, 'builtins.getattr')]
    # numpy >= 1.25 pickles dtypes as instances of their np.dtypes.* classes
    allowed += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return allowed


def _safe_load_checkpoint(load_checkpoint: Callable) -> Callable:
    """Wrap the function behind ``CheckpointLoader.load_checkpoint`` (called with the class first)."""
    @functools.wraps(load_checkpoint)
    def wrapper(cls: type, filename: str, map_location: Optional[Any] = None, logger: str = 'current') -> Any:
        try:
            with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
                return load_checkpoint(cls, filename, map_location=map_location, logger=logger)
        except pickle.UnpicklingError as e:
            found = re.search(r'Unsupported global: GLOBAL \S+|Unsupported global: [^\n]+|Trying to [^\n]+', str(e))
            raise CheckpointSecurityError(
                f'refusing to load checkpoint {filename!r}: it holds a pickled object outside the allow-list of '
                f'what mmengine checkpoints store, and loading it could run arbitrary code '
                f'({found.group(0) if found else str(e).strip().splitlines()[-1]}). If you trust this file, '
                'allow-list that object with torch.serialization.add_safe_globals([...]) before loading it.') from e

    wrapper.__ltmm_patched__ = True  # type: ignore[attr-defined]
    return wrapper


def patch_checkpoint_loading() -> None:
    """Make mmengine's checkpoint loading work under ``weights_only=True`` (idempotent)."""
    from mmengine.runner.checkpoint import CheckpointLoader

    current = CheckpointLoader.__dict__['load_checkpoint'].__func__
    if getattr(current, '__ltmm_patched__', False):
        return
    CheckpointLoader.load_checkpoint = classmethod(_safe_load_checkpoint(current))


def patch_lvis_eval() -> None:
    """Let lvis-api 0.5.3's ``LVISEval.accumulate`` run on numpy >= 1.24 without patching numpy globally."""
    if hasattr(np, 'float'):
        return
    try:
        from lvis.eval import LVISEval
    except ImportError:
        return
    accumulate = LVISEval.accumulate
    if getattr(accumulate, '__ltmm_patched__', False):
        return

    @functools.wraps(accumulate)
    def wrapper(self: Any) -> Any:
        np.float = float  # type: ignore[attr-defined]
        try:
            return accumulate(self)
        finally:
            del np.float

    wrapper.__ltmm_patched__ = True  # type: ignore[attr-defined]
    LVISEval.accumulate = wrapper


def init_distributed(launcher: str, timeout_s: int = 1800) -> None:
    """Start the process group for ``launcher`` when the Runner cannot: on a machine without CUDA, mmengine's
    ``init_dist`` crashes in ``torch.cuda.set_device``, so a gloo group is started here from torchrun's environment
    (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). With CUDA this does nothing and the Runner starts NCCL as usual.

    Raises:
        RuntimeError: ``launcher`` is 'slurm' or 'mpi' on a machine without CUDA (not supported).
    """
    import torch.distributed as dist

    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs CUDA; on a CPU-only machine use tools/dist_train.sh '
                           '(torchrun, --launcher pytorch), which runs on gloo')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch expects torchrun to set {missing}; start with tools/dist_train.sh')
    dist.init_process_group('gloo', timeout=timedelta(seconds=timeout_s))


def cpu_ddp_wrapper_cfg(model_wrapper_cfg: Optional[dict]) -> Optional[dict]:
    """Return the ``model_wrapper_cfg`` to use: on CPU, DDP must get ``device_ids=None`` (the Runner would pass
    ``[LOCAL_RANK]``, a CUDA device)."""
    if torch.cuda.is_available():
        return model_wrapper_cfg
    cfg = dict(model_wrapper_cfg or {})
    cfg.setdefault('type', 'MMDistributedDataParallel')
    cfg['device_ids'] = None
    return cfg
