"""What the contrastive classifiers share (:class:`~ltmm.cls.classifiers.QueueContrastClassifier`,
:class:`~ltmm.cls.classifiers.MultiViewContrastClassifier`): backbone + pooling, a projection neck, an optional
online classifier head and a contrastive loss, built with mmpretrain's ``SelfSupDataPreprocessor`` (it normalises
lists of views); the pooled features, mmengine's ``forward`` modes, and a prediction by the head (raw logits) or, with
no head, the pooled feature in each data sample's ``feats`` field (for a later linear probe)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


class ContrastClassifier(BaseModel):
    """Base of the contrastive classifiers (module docstring); subclasses implement ``loss``.

    Args:
        backbone: the encoder's backbone config.
        neck: the projection head config, applied to the pooled feature tuple.
        contrast_loss: the contrastive loss config.
        head: the online classifier (an mmpretrain ``ClsHead`` with its own loss), or None.
        pool: the pooling neck from the backbone's maps to the pooled feature. Default ``GlobalAveragePooling``.
        data_preprocessor: its config or module; default type ``SelfSupDataPreprocessor``.
        init_cfg: mmengine's.
    """

    def __init__(self, backbone: dict, neck: dict, contrast_loss: dict, head: Optional[dict] = None,
                 pool: Optional[dict] = None, data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor = {} if data_preprocessor is None else data_preprocessor
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(dict(dict(type='SelfSupDataPreprocessor'), **data_preprocessor))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.pool = MODELS.build(pool if pool is not None else dict(type='GlobalAveragePooling'))
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head) if head is not None else None
        self.contrast_loss = MODELS.build(contrast_loss)

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The pooled features (a tuple, as mmpretrain's ``ImageClassifier.extract_feat`` with a pooling neck)."""
        feats = self.pool(self.backbone(inputs))
        return feats if isinstance(feats, tuple) else (feats, )

    def forward(self, inputs: Union[torch.Tensor, List[torch.Tensor]], data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'{type(self).__name__}: invalid mode {mode!r} (tensor, loss or predict)')

    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None) -> List[DataSample]:
        """The online classifier's prediction (``head.predict``, raw logits, no prior subtraction); without a head,
        data samples carrying the pooled feature in the field ``feats`` (for a later linear probe)."""
        pooled = self.extract_feat(inputs)
        if self.head is not None:
            return self.head.predict(pooled, data_samples)
        feats = last(pooled)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(feats.shape[0])]
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'feats', field_type='data')
        return data_samples


def last(x: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
    """The last of a tuple of features (mmpretrain necks return tuples), or the tensor itself."""
    return x[-1] if isinstance(x, (tuple, list)) else x


def sample_field(data_samples: Sequence[DataSample], field: str, owner: str) -> torch.Tensor:
    """One integer per data sample from ``field`` (``gt_label``, a subclass id, ...) as a long tensor; a clear error
    naming ``owner`` when a sample lacks it or holds more than one value."""
    missing = [i for i, ds in enumerate(data_samples) if field not in ds]
    if missing:
        raise ValueError(f'{owner}: data sample {missing[0]} has no {field}')
    values = torch.cat([torch.as_tensor(ds.get(field)).reshape(-1) for ds in data_samples])
    if len(values) != len(data_samples):
        raise ValueError(f'{owner}: one {field} per sample expected (single-label data), got {len(values)} for '
                         f'{len(data_samples)} samples')
    return values.long()
