"""Balanced contrastive loss of BCL (Zhu et al., "Balanced Contrastive Learning for Long-Tailed Visual Recognition",
CVPR 2022): supervised contrast with a class-averaged denominator and the class prototypes in every batch.

Official code (MIT; re-implemented from its maths, nothing copied): FlamieZhu/Balanced-Contrastive-Learning@f72d0703
``loss/contrastive.py`` (``BalSCL``, lines 11-58), ``models/resnext.py`` (``BCLModel``, lines 285-309: the
prototype MLP ``head_fc`` on the classifier weights) and ``main.py`` (defaults, lines 30, 55-60; the loss sum,
lines 304-311).

BCL's training loss is ``alpha * L_LC + beta * L_BCL``. ``L_LC`` is the logit-compensated cross-entropy of the
classifier branch, i.e. logit adjustment with the training prior (``loss/logitadjust.py``, ``tau = 1``) on the
cosine classifier's logits of view 0: in ltmm the model's head (a
:class:`~ltmm.cls.heads.CosineClsHead` with ``scale=30`` and a :class:`~ltmm.cls.losses.LogitAdjustedLoss`).
``L_BCL`` is this module's (its ``loss_weight`` is ``beta``).
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from ...core.distributed import concat_all_gather, gather_with_grad, rank_and_world_size
from ...core.registry import register_into
from .supcon_loss import supcon_loss


def bcl_loss(features: torch.Tensor, labels: torch.Tensor, prototypes: torch.Tensor, temperature: float = 0.07,
             anchors: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The balanced contrastive loss ``L_BCL`` of ``V`` views of ``B`` samples and ``C`` class prototypes.

    The contrast set is the ``V B`` view rows, stacked view-major, followed by the ``C`` prototypes (class-complement:
    every class is present), with labels ``[y; ...; y; 0..C-1]``. For an anchor row ``i`` of class ``y_i``::

        l_ij     = z_i . z_j / T
        P(i)     = {j != i : y_j = y_i}                       (other views, same-class samples, the own prototype)
        w_ij     = n_{y_j} - [j in P(i)]                      (n_c: the contrast set's rows of class c)
        log p_ij = l_ij - log sum_{k != i} exp(l_ik) / w_ik   (class-averaging)
        L        = -mean_i (1 / |P(i)|) sum_{j in P(i)} log p_ij

    so each negative class enters the denominator as the mean of its ``exp`` terms (samples and prototype), the
    anchor's own class as the mean over its ``n_{y_i} - 1`` other rows. ``|P(i)| >= 2`` with ``V >= 2`` (another
    view and the prototype), ``>= 1`` with ``V = 1``. It is :func:`~ltmm.cls.losses.supcon_loss` with the positive
    mask as ``pos_weight``, ``1 / w`` (0 on the anchor itself) as ``denom_weight`` and ``scale = 1`` (``BalSCL`` has
    no ``T / base_T`` factor), computed in float32 whatever the input dtype.

    Args:
        features: ``(B, V, d)`` L2-normalised view features (BCL: ``V = 2``, the two contrastive views).
        labels: ``(B,)`` class indices in ``[0, C)``.
        prototypes: ``(C, d)`` L2-normalised class prototypes (BCL: the prototype MLP of the classifier weights).
        temperature: ``T``. Default 0.07 (``main.py`` ``--temp``; ``BalSCL``'s own default 0.1 is never used).
        anchors: indices into the ``B`` samples whose ``V`` rows are the anchors (a rank's own samples when
            ``features`` is gathered across ranks); the loss is the mean over them. Default None: all ``V B`` rows
            (the official full batch).

    Returns:
        The scalar loss (float32).
    """
    if features.dim() != 3:
        raise ValueError(f'bcl_loss: features must be (B, V, d), got shape {tuple(features.shape)}')
    batch, views, dim = features.shape
    num_classes = prototypes.shape[0]
    if prototypes.dim() != 2 or prototypes.shape[1] != dim:
        raise ValueError(f'bcl_loss: prototypes must be (C, {dim}), got shape {tuple(prototypes.shape)}')
    labels = labels.reshape(-1).long()
    if labels.numel() != batch:
        raise ValueError(f'bcl_loss: {labels.numel()} labels for {batch} samples')
    if batch and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'bcl_loss: labels must lie in [0, {num_classes}) (one prototype per class), got '
                         f'{sorted(set(labels.tolist()) - set(range(num_classes)))}')
    if not temperature > 0:
        raise ValueError(f'bcl_loss: temperature must be > 0, got {temperature!r}')
    device = features.device
    contrast = torch.cat([*torch.unbind(features.float(), dim=1), prototypes.float()])
    contrast_labels = torch.cat([labels.repeat(views), torch.arange(num_classes, device=device)])
    counts = torch.bincount(contrast_labels, minlength=num_classes).float()
    samples = torch.arange(batch, device=device) if anchors is None else anchors.reshape(-1).long().to(device)
    rows = (torch.arange(views, device=device)[:, None] * batch + samples[None]).reshape(-1)  # view-major
    logits = contrast[rows] @ contrast.T / temperature
    positive = (labels[rows % batch][:, None] == contrast_labels[None]).float()
    not_self = torch.ones_like(logits)
    not_self[torch.arange(len(rows), device=device), rows] = 0.0
    positive = positive * not_self
    denom_weight = not_self / (counts[contrast_labels][None] - positive)
    return supcon_loss(logits, positive, denom_weight)


@register_into('MODELS', scopes=('mmpretrain',))
class BCLLoss(nn.Module):
    """BCL's ``L_BCL`` (:func:`bcl_loss`) with its prototype MLP, for
    :class:`~ltmm.cls.classifiers.MultiViewContrastClassifier` (``contrast_loss``).

    The prototypes are ``normalize(MLP(W))`` of the classifier's **raw** class weights ``W`` (C, F) (the head's
    ``fc.weight``: :class:`~ltmm.cls.heads.CosineClsHead`'s, stored (C, F) where the official ``NormedLinear`` stores
    its transpose). The MLP is the official ``head_fc``, ``Linear(F, F) - BN1d - ReLU - Linear(F, d)``, whose BN
    batch is the ``C`` class vectors; nothing is detached, so ``L_BCL`` trains the MLP and the classifier weights.

    Distributed: each rank's view features are gathered with gradient (:func:`~ltmm.core.distributed.
    gather_with_grad`) and its labels without, so the class counts and the negatives are those of the global batch,
    and each rank's anchors are its own samples' rows. With DDP's gradient averaging this is the official
    full-batch loss and gradient (its ``DataParallel`` run on 4 GPUs sees the global batch of 256); every rank
    computes the same prototypes.

    Args:
        num_classes: ``C``; the classifier must have ``C`` class vectors.
        prototype_mlp: the MLP's config (an :class:`~ltmm.cls.necks.MLPNeck`). Default None:
            ``MLPNeck(channels=(in_channels, in_channels, feat_dim), norm_cfg=BN1d)``, the official ``head_fc``.
        in_channels: ``F``, the classifier's input width, for the default MLP. Default 2048 (ResNet-50).
        feat_dim: ``d``, the projection width, for the default MLP. Default 1024 (``main.py`` ``--feat_dim``).
        temperature: ``T``. Default 0.07 (``main.py`` ``--temp``).
        loss_weight: ``beta``. Default 0.35 (``main.py`` ``--beta``; the README commands keep it).
        weight_name: the head's attribute path to its class weights. Default ``'fc.weight'``.
    """

    def __init__(self, num_classes: int, prototype_mlp: Optional[dict] = None, in_channels: int = 2048,
                 feat_dim: int = 1024, temperature: float = 0.07, loss_weight: float = 0.35,
                 weight_name: str = 'fc.weight') -> None:
        super().__init__()
        if int(num_classes) < 1:
            raise ValueError(f'BCLLoss: num_classes must be >= 1, got {num_classes!r}')
        if not temperature > 0:
            raise ValueError(f'BCLLoss: temperature must be > 0, got {temperature!r}')
        if prototype_mlp is None:
            prototype_mlp = dict(type='MLPNeck', channels=(in_channels, in_channels, feat_dim),
                                 norm_cfg=dict(type='BN1d'))
        self.num_classes = int(num_classes)
        self.prototype_mlp = MODELS.build(prototype_mlp)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.weight_name = weight_name

    def class_weights(self, head: nn.Module) -> torch.Tensor:
        """The head's raw class weights ``(C, F)`` (``weight_name``)."""
        weight = head
        for name in self.weight_name.split('.'):
            if not hasattr(weight, name):
                raise AttributeError(f'BCLLoss: the head {type(head).__name__} has no {self.weight_name!r} (the '
                                     f'class weights the prototypes are computed from)')
            weight = getattr(weight, name)
        if weight.dim() != 2 or weight.shape[0] != self.num_classes:
            raise ValueError(f'BCLLoss: the head\'s {self.weight_name} must be ({self.num_classes}, F), got shape '
                             f'{tuple(weight.shape)}')
        return weight

    def prototypes(self, head: nn.Module) -> torch.Tensor:
        """The unit class prototypes ``(C, d)``: ``normalize(MLP(W))``."""
        out = self.prototype_mlp(self.class_weights(head))
        return F.normalize(out[-1] if isinstance(out, (tuple, list)) else out, dim=1)

    def forward(self, features: torch.Tensor, labels: torch.Tensor, head: nn.Module) -> Dict[str, torch.Tensor]:
        """``{'loss_bcl': beta * L_BCL}`` of this rank's ``features`` ``(B, V, d)`` (L2-normalised) and ``labels``
        ``(B,)`` against the global batch and the prototypes of ``head``'s class weights."""
        rank, world_size = rank_and_world_size()
        batch = features.shape[0]
        anchors = None
        if world_size > 1:
            features = gather_with_grad(features)
            labels = concat_all_gather(labels.reshape(-1))
            anchors = torch.arange(rank * batch, (rank + 1) * batch, device=features.device)
        loss = bcl_loss(features, labels, self.prototypes(head), self.temperature, anchors)
        return dict(loss_bcl=self.loss_weight * loss)
