"""MDCS's classifier (Zhao et al., ICCV 2023; fistyee/MDCS ``trainer/trainer.py``, no licence file, re-implemented):
the weak and the strong view of each image go through the network **in one pass** as ``[weak; strong]`` (2B rows,
so BatchNorm normalises both views together, as the official ``torch.cat([data[0], data[1]])``), the labels are
duplicated, and the head's loss (:class:`~ltmm.cls.heads.MultiExpertClsHead` with
:class:`~ltmm.cls.losses.MDCSLoss`) sees the 2B rows. Prediction is the head's (the mean of the raw expert logits).
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core.registry import register_into

NUM_VIEWS = 2  # weak, strong


@register_into('MODELS', scopes=('mmpretrain',))
class MDCSClassifier(ImageClassifier):
    """An mmpretrain ``ImageClassifier`` trained on ``[weak; strong]`` batches (module docstring).

    Training inputs: the list of two ``(B, C, H, W)`` views ``[weak, strong]`` (mmpretrain ``MultiView`` with one
    transform list per view, ``num_views=[1, 1]``, collated with ``default_collate``) and data samples with
    ``gt_label``. Test inputs: one ``(B, C, H, W)`` tensor.

    Args:
        backbone, neck, head, pretrained, init_cfg: as ``ImageClassifier``; ``head`` a multi-expert head whose loss
            takes the ``[weak; strong]`` batch (``MDCSLoss``).
        data_preprocessor: its config or module; default type mmpretrain's ``SelfSupDataPreprocessor``, which
            normalises lists of views.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 pretrained: Optional[str] = None, data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if head is None:
            raise ValueError('MDCSClassifier needs a head (MultiExpertClsHead with MDCSLoss)')
        data_preprocessor = {} if data_preprocessor is None else data_preprocessor
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(dict(dict(type='SelfSupDataPreprocessor'), **data_preprocessor))
        super().__init__(backbone, neck=neck, head=head, pretrained=pretrained, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """The head's loss on the concatenated ``[weak; strong]`` batch, each data sample listed twice."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != NUM_VIEWS:
            got = f'a list of {len(inputs)} views' if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f'MDCSClassifier trains on [weak, strong] views (a two-view MultiView pipeline, '
                             f'default_collate), got {got}')
        if inputs[0].shape != inputs[1].shape:
            raise ValueError(f'MDCSClassifier: the weak and strong views must have one shape, got '
                             f'{tuple(inputs[0].shape)} and {tuple(inputs[1].shape)}')
        feats = self.extract_feat(torch.cat(list(inputs)))
        return self.head.loss(feats, list(data_samples) * NUM_VIEWS)
