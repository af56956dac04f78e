"""Frozen models a classifier consults in training but never trains: RIDE's and DeiT-LT's teachers, LFME's subset
experts. Each is built from its config and checkpoint (:func:`build_teacher`) and kept out of the classifier's module
tree, so it is not in the optimizer, the checkpoint nor the DDP wrapper; :class:`FrozenModelHolder` makes ``.to()``,
``.cuda()`` and ``.half()`` move it all the same."""
import os.path as osp
from typing import List, Union

from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS
from torch import nn


def build_teacher(config: Union[str, dict], checkpoint: str, what: str = 'teacher') -> nn.Module:
    """The classifier of ``config`` (a config file, whose ``model`` is used, or a model config dict) with the weights
    of ``checkpoint`` (every weight must match: the official ``load_state_dict(..., no_ignore=True)`` of RIDE), its
    parameters frozen.

    Args:
        config: the config file or the model config dict.
        checkpoint: the trained weights.
        what: names the model in errors (e.g. ``'RIDE teacher'``, ``'LFME expert 0'``).

    Raises:
        FileNotFoundError: the config or the checkpoint file does not exist (the message names it).
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{what} checkpoint {checkpoint!r} does not exist (train its config first, or set '
                                'its checkpoint in the config)')
    if isinstance(config, dict):
        model_cfg = config
    else:
        if not osp.isfile(config):
            raise FileNotFoundError(f'{what} config {config!r} does not exist')
        from ...engine import model_config  # ltmm.engine imports the task packages, this one included

        model_cfg = model_config(Config.fromfile(config))
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    for param in model.parameters():
        param.requires_grad_(False)
    return model


class FrozenModelHolder:
    """Mixin for an ``nn.Module`` that keeps frozen models outside its module tree: ``.to()``, ``.cuda()``,
    ``.half()`` (``_apply``) also move the models :meth:`frozen_models` returns."""

    def frozen_models(self) -> List[nn.Module]:
        return []

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        for model in self.frozen_models():
            model._apply(fn, recurse)
        return self
