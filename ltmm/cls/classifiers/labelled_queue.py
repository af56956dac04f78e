"""The labelled feature queue of the supervised MoCo-style methods (PaCo, KCL, TSC, SBCL on ImageNet): MoCo's
first-in-first-out memory of momentum keys (He et al., CVPR 2020; facebookresearch/moco ``moco/builder.py``,
``_dequeue_and_enqueue``), with each key's class label and optional integer ids beside it.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...core.distributed import concat_all_gather


class LabelledQueue(nn.Module):
    """A queue of ``K`` unit keys with their labels, kept in buffers (so in the checkpoint: a resumed run continues
    with the same queue and pointer).

    Buffers:
        feats: ``(K, d)`` float32 keys; initialised to random unit vectors (N(0, 1) normalised per key, as MoCo).
        labels: ``(K,)`` int64, initialised to -1, a label that never matches a class, so an initial slot is never a
            positive and only adds a negative to denominators, as KCL's ``label_queue`` (BalFeat
            ``moco/kcl_builder.py``). Deviation for PaCo, whose label queue starts with random classes (so random
            keys count as positives until overwritten): ltmm uses -1 for every method.
        extra_ids: ``(K, E)`` int64, initialised to -1 (``E = num_extra_ids``; SBCL's subclass ids). Loading a
            checkpoint whose queue had no id columns leaves them at -1 (SBCL's phase 2 from its KCL phase, whose
            official queue holds the subclass id -1 everywhere).
        ptr: ``()`` int64, the next slot to write.

    Args:
        size: ``K``, a multiple of every global batch that is enqueued (MoCo's assertion).
        dim: ``d``, the key width.
        num_extra_ids: ``E``, the integer id columns stored beside each key. Default 0.
    """

    def __init__(self, size: int, dim: int, num_extra_ids: int = 0) -> None:
        super().__init__()
        if size < 1 or dim < 1 or num_extra_ids < 0:
            raise ValueError(f'LabelledQueue: size and dim must be >= 1 and num_extra_ids >= 0, got size={size}, '
                             f'dim={dim}, num_extra_ids={num_extra_ids}')
        self.size, self.dim, self.num_extra_ids = int(size), int(dim), int(num_extra_ids)
        self.register_buffer('feats', F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer('labels', torch.full((size, ), -1, dtype=torch.long))
        self.register_buffer('extra_ids', torch.full((size, num_extra_ids), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, labels: torch.Tensor, *extra_ids: torch.Tensor) -> None:
        """Gather ``keys`` ``(B, d)`` (unit-normalised by the caller), ``labels`` ``(B,)`` and the ``E`` id tensors
        ``(B,)`` from every rank (rank order) and write the ``B_global`` rows at ``ptr``, wrapping around; then
        ``ptr <- (ptr + B_global) mod K``. Every rank must enqueue the same number of keys."""
        if keys.dim() != 2 or keys.shape[1] != self.dim:
            raise ValueError(f'LabelledQueue.enqueue: keys must be (B, {self.dim}), got shape {tuple(keys.shape)}')
        if labels.reshape(-1).shape[0] != keys.shape[0]:
            raise ValueError(f'LabelledQueue.enqueue: {labels.numel()} labels for {keys.shape[0]} keys')
        if len(extra_ids) != self.num_extra_ids:
            raise ValueError(f'LabelledQueue.enqueue: the queue stores {self.num_extra_ids} extra id column(s), got '
                             f'{len(extra_ids)}')
        for i, ids in enumerate(extra_ids):
            if ids.reshape(-1).shape[0] != keys.shape[0]:
                raise ValueError(f'LabelledQueue.enqueue: extra id column {i} has {ids.numel()} entries for '
                                 f'{keys.shape[0]} keys')
        keys = concat_all_gather(keys.to(self.feats))
        labels = concat_all_gather(labels.reshape(-1).long().to(self.labels.device))
        extra = [concat_all_gather(ids.reshape(-1).long().to(self.labels.device)) for ids in extra_ids]
        batch = keys.shape[0]
        if self.size % batch:
            raise ValueError(f'LabelledQueue: the queue size K={self.size} must be a multiple of the global batch '
                             f'{batch} (keys enqueued per step over all ranks)')
        index = (self.ptr + torch.arange(batch, device=self.ptr.device)) % self.size
        self.feats[index] = keys
        self.labels[index] = labels
        for column, ids in enumerate(extra):
            self.extra_ids[index, column] = ids
        self.ptr.copy_((self.ptr + batch) % self.size)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        key = prefix + 'extra_ids'
        saved = state_dict.get(key)
        if saved is not None and saved.shape == (self.size, 0) and self.num_extra_ids > 0:
            # a checkpoint of a queue without id columns (e.g. SBCL's KCL phase, which enqueues the id -1): the
            # columns stay at -1, as that phase would have written them
            state_dict[key] = torch.full_like(self.extra_ids, -1)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f'size={self.size}, dim={self.dim}, num_extra_ids={self.num_extra_ids}'
