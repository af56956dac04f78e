"""LFME's student classifier (Xiang et al., ECCV 2020; xiangly55/LFME, no licence: re-derived, nothing copied):
mmpretrain's ``ImageClassifier`` with the frozen subset experts whose logits the head's ``LFMELoss`` distills.

Every expert is a classifier trained on one class subset (its head has ``|S_s|`` outputs, local label ``k`` being
class ``subsets[s][k]``); on every training batch each runs in eval mode under ``no_grad`` on the student's
preprocessed inputs (official: experts in ``eval()`` the whole time) and its logits go to the loss as
``teacher_scores``; with the loss's curriculum on, the batch's dataset indices go to it as ``sample_idx``. The
experts are kept out of the module tree: not in ``parameters()`` (not optimised, not in DDP's gradient sync) nor in
the student's checkpoints; a resumed run rebuilds them from their checkpoints.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import nn

from ...core.registry import register_into
from ..losses.lfme_loss import LFMELoss
from .frozen_model import FrozenModelHolder, build_teacher
from .multi_view_contrast_classifier import sample_indices

EXPERT_KEYS = ('config', 'checkpoint')


@register_into('MODELS', scopes=('mmpretrain',))
class LFMEClassifier(FrozenModelHolder, ImageClassifier):
    """An ``ImageClassifier`` distilled from frozen subset experts (module docstring).

    Args:
        backbone, neck, head, pretrained, train_cfg, data_preprocessor, init_cfg: as ``ImageClassifier``; the head's
            loss must be :class:`~ltmm.cls.losses.LFMELoss` when ``experts`` are given.
        experts: one ``dict(config=..., checkpoint=...)`` per subset of the loss, in the loss's subset order
            (``config``: the expert's config file or a model config dict; ``checkpoint``: its trained weights, a
            missing file is a FileNotFoundError naming it). None: no distillation (testing the student).
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 experts: Optional[Sequence[dict]] = None, **kwargs) -> None:
        super().__init__(backbone, neck=neck, head=head, **kwargs)
        object.__setattr__(self, 'experts', [])  # kept out of the module tree (module docstring)
        if not experts:
            return
        loss = getattr(self.head, 'loss_module', None)
        if not isinstance(loss, LFMELoss):
            raise TypeError(f'LFMEClassifier with experts needs an LFMELoss head loss, got {type(loss).__name__}')
        if len(experts) != len(loss.subsets):
            raise ValueError(f'LFMEClassifier: {len(experts)} experts for the {len(loss.subsets)} subsets of the loss')
        for i, expert in enumerate(experts):
            if set(expert) != set(EXPERT_KEYS):
                raise ValueError(f'LFMEClassifier: expert {i} must be dict(config=..., checkpoint=...), got keys '
                                 f'{sorted(expert)}')
            model = build_teacher(expert['config'], expert['checkpoint'], f'LFME expert {i}')
            model.eval()
            self.experts.append(model)

    def frozen_models(self) -> List[nn.Module]:
        return list(self.experts)

    def expert_scores(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """Each expert's logits (N, |S_s|) on the preprocessed ``inputs``, in eval mode, without gradient."""
        scores = []
        with torch.no_grad():
            for expert in self.experts:
                expert.eval()
                scores.append(expert(inputs, mode='tensor'))
        return scores

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        feats = self.extract_feat(inputs)
        kwargs = {}
        if getattr(self.head.loss_module, 'curriculum_half_epochs', None) is not None:
            idx = sample_indices(data_samples)  # the curriculum weights are per training instance
            kwargs['sample_idx'] = None if idx is None else idx.to(inputs.device)
        if self.experts:
            kwargs['teacher_scores'] = self.expert_scores(inputs)
        return self.head.loss(feats, data_samples, **kwargs)
