"""The multi-view contrastive classifier of the in-batch supervised-contrastive methods (BCL; also the form of SupCon
and GPaCo-style training without a queue): every view of a batch through one encoder, a projection neck, an optional
online classifier head trained with its own loss, and a pluggable contrastive loss over the projected views.

One training step (``loss()``) on the ``V`` views of a multi-view dataset pipeline (mmpretrain ``MultiView`` +
``default_collate``: the model receives a list of ``V`` ``(B, C, H, W)`` tensors):

1. the used views are concatenated along the batch and go through the backbone and the pooling **in one pass**
   (BatchNorm normalises all of them together, as BCL's ``model(torch.cat([v0, v1, v2]))``), giving ``h``;
2. the projection neck runs on all of ``h`` (its BatchNorm over every view, as BCL's ``head``), ``z =
   normalize(neck(h))``;
3. the head's loss (``head.loss``) on ``h`` of the ``cls_views`` (BCL: view 0 only; the other views' logits are
   discarded by the official code, and the cosine classifier has no batch statistics, so they are not computed);
4. ``contrast_loss(features=z, labels=y[, head=head])`` with ``z`` of the ``contrast_views`` as ``(B, V_c, d)``
   (view order as listed); ``head`` is passed when the loss's ``forward`` takes it (BCL's prototypes come from the
   classifier weights), ``sample_idx`` (the dataset indices of the batch, ``(B,)``; None if a data sample has
   none) likewise (SBCL's subclass ids are per training sample). A tensor result is logged as ``loss_contrast``, a
   dict as it is.

``predict()`` is the head's (raw logits, no prior subtraction), or the pooled feature without a head.
"""
import inspect
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from .contrast_classifier import ContrastClassifier, last, sample_field


@register_into('MODELS', scopes=('mmpretrain',))
class MultiViewContrastClassifier(ContrastClassifier):
    """Backbone + pooling, a projection neck, an optional online classifier head and a contrastive loss over several
    views of each image, all views through the one encoder (module docstring).

    Training inputs: the list of ``V`` ``(N, C, H, W)`` views and data samples with ``gt_label``. Test inputs: one
    ``(N, C, H, W)`` tensor.

    Args:
        backbone: the encoder's backbone config.
        neck: the projection head config, applied to the pooled feature tuple ``(h,)`` (e.g.
            :class:`~ltmm.cls.necks.MLPNeck`); its output is L2-normalised.
        contrast_loss: the contrastive loss config (e.g. :class:`~ltmm.cls.losses.BCLLoss`,
            :class:`~ltmm.cls.losses.SupConLoss`), called as in the module docstring.
        head: the online classifier (an mmpretrain ``ClsHead`` with its own loss), or None.
        cls_views: the views whose pooled features train the head (ignored without a head). Default ``(0,)``
            (BCL: the ``randcls`` view).
        contrast_views: the views whose projections form the contrast, in this order. Default ``(1, 2)`` (BCL: the
            two ``sim`` views); SupCon on a two-view pipeline: ``(0, 1)``.
        pool: the pooling neck from the backbone's maps to ``h``. Default ``GlobalAveragePooling``.
        data_preprocessor: its config or module; default type mmpretrain's ``SelfSupDataPreprocessor``, which
            normalises lists of views.
        init_cfg: mmengine's.
    """

    def __init__(self, backbone: dict, neck: dict, contrast_loss: dict, head: Optional[dict] = None,
                 cls_views: Sequence[int] = (0, ), contrast_views: Sequence[int] = (1, 2),
                 pool: Optional[dict] = None, data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        cls_views = tuple(int(v) for v in cls_views) if head is not None else ()
        contrast_views = tuple(int(v) for v in contrast_views)
        if not contrast_views or min(cls_views + contrast_views) < 0:
            raise ValueError(f'MultiViewContrastClassifier: needs contrast views and non-negative view indices, got '
                             f'cls_views={cls_views}, contrast_views={contrast_views}')
        if len(set(contrast_views)) != len(contrast_views) or len(set(cls_views)) != len(cls_views):
            raise ValueError(f'MultiViewContrastClassifier: a view listed twice in cls_views={cls_views} or '
                             f'contrast_views={contrast_views}')
        super().__init__(backbone, neck, contrast_loss, head=head, pool=pool, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.cls_views = cls_views
        self.contrast_views = contrast_views
        self.views = tuple(sorted(set(cls_views + contrast_views)))
        params = inspect.signature(self.contrast_loss.forward).parameters
        self._loss_takes_head = 'head' in params
        self._loss_takes_sample_idx = 'sample_idx' in params

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """The head's and the contrastive losses of one batch of views (module docstring)."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) <= max(self.views):
            got = f'a list of {len(inputs)} views' if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f'MultiViewContrastClassifier trains on a list of at least {max(self.views) + 1} views '
                             f'(a MultiView pipeline, default_collate), got {got}')
        shapes = {tuple(inputs[v].shape) for v in self.views}
        if len(shapes) != 1:
            raise ValueError(f'MultiViewContrastClassifier: the views must have one shape, got {sorted(shapes)}')
        labels = sample_field(data_samples, 'gt_label', 'MultiViewContrastClassifier').to(inputs[0].device)
        batch = labels.numel()
        pooled = self.extract_feat(torch.cat([inputs[v] for v in self.views]))[-1]
        z = F.normalize(last(self.neck((pooled, ))), dim=1)
        slot = {v: i for i, v in enumerate(self.views)}
        losses = {}
        if self.head is not None and self.cls_views:
            cls_feats = torch.cat([pooled[slot[v] * batch:(slot[v] + 1) * batch] for v in self.cls_views])
            losses.update(self.head.loss((cls_feats, ), list(data_samples) * len(self.cls_views)))
        features = torch.stack([z[slot[v] * batch:(slot[v] + 1) * batch] for v in self.contrast_views], dim=1)
        kwargs = dict(head=self.head) if self._loss_takes_head else {}
        if self._loss_takes_sample_idx:
            idx = sample_indices(data_samples)
            kwargs['sample_idx'] = None if idx is None else idx.to(labels.device)
        contrast = self.contrast_loss(features=features, labels=labels, **kwargs)
        losses.update(contrast if isinstance(contrast, dict) else dict(loss_contrast=contrast))
        return losses


def sample_indices(data_samples: Sequence[DataSample]) -> Optional[torch.Tensor]:
    """The dataset indices of the batch, or None when a sample has none (the loss then says whether it needs them)."""
    if not all('sample_idx' in ds for ds in data_samples):
        return None
    return torch.as_tensor([int(ds.sample_idx) for ds in data_samples], dtype=torch.long)
