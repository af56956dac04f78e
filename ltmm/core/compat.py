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
- mmcv 2.x ``adjust_hue`` (mmpretrain's ``ColorJitter`` with ``hue > 0``) shifts the hue channel by
  ``np.uint8(hue_factor * 255)``, which numpy 2 refuses for a negative factor (OverflowError on about half the
  jittered images). :func:`patch_mmcv_adjust_hue` replaces ``mmcv.adjust_hue`` with the same conversion and numpy 1's
  shift, ``int(hue_factor * 255)`` wrapped modulo 256.
"""
import functools
import os
import pickle
import re
from datetime import timedelta
from typing import Any, Callable, List, Optional

import numpy as np
import torch

__all__ = ['mmengine_checkpoint_globals', 'patch_checkpoint_loading', 'patch_lvis_eval', 'patch_mmcv_adjust_hue',
           'init_distributed', 'cpu_ddp_wrapper_cfg', 'CheckpointSecurityError']


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


def adjust_hue(img: np.ndarray, hue_factor: float, backend: Optional[str] = None) -> np.ndarray:
    """mmcv 2.x ``adjust_hue`` (the same HSV round trip per backend) with numpy 1's hue shift for negative factors:
    ``int(hue_factor * 255) mod 256`` added to the uint8 hue channel, wrapping around.

    Args:
        img: an ``(H, W, 3)`` BGR image.
        hue_factor: the hue shift, in ``[-0.5, 0.5]``.
        backend: 'cv2' or 'pillow'; None for mmcv's ``imread_backend``.
    """
    import cv2
    from mmcv.image import io as mmcv_io
    from PIL import Image

    backend = mmcv_io.imread_backend if backend is None else backend
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f'adjust_hue: backend must be cv2 or pillow, got {backend!r}')
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'adjust_hue: hue_factor must be in [-0.5, 0.5], got {hue_factor}')
    shift = np.uint8(int(hue_factor * 255) % 256)
    if backend == 'pillow':
        if img.dtype != np.uint8:
            raise TypeError(f'adjust_hue: the pillow backend takes uint8 images, got {img.dtype}')
        h, s, v = Image.fromarray(np.ascontiguousarray(img[..., ::-1])).convert('HSV').split()
        h = Image.fromarray(np.asarray(h, dtype=np.uint8) + shift, 'L')  # uint8 addition wraps around
        return np.array(Image.merge('HSV', (h, s, v)).convert('RGB'), dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += shift
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


def patch_mmcv_adjust_hue() -> None:
    """Route ``mmcv.adjust_hue`` (what mmpretrain's ``ColorJitter`` calls) to :func:`adjust_hue` under numpy 2
    (idempotent; nothing changes under numpy 1 or without mmcv)."""
    if int(np.__version__.split('.')[0]) < 2:
        return
    try:
        import mmcv
        import mmcv.image
    except ImportError:
        return
    if getattr(mmcv.adjust_hue, '__ltmm_patched__', False):
        return
    adjust_hue.__ltmm_patched__ = True  # type: ignore[attr-defined]
    mmcv.adjust_hue = adjust_hue
    mmcv.image.adjust_hue = adjust_hue


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
