"""De-confound / TDE: the multi-head causal-norm classifier with its moving-average feature direction, and the
test-time counterfactual subtraction (Tang et al., "Long-Tailed Classification by Keeping the Good and Removing the
Bad Momentum Causal Effect", NeurIPS 2020).

Official code (GPL-3.0; re-implemented from its maths, nothing copied):
KaihuaTang/Long-Tailed-Recognition.pytorch@5c916d0d ``classification/models/CausalNormClassifier.py`` (the
classifier) and ``classification/run_networks.py`` (the moving average, its momentum and its checkpointing).
"""
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes

_EPS = 1e-12  # F.normalize's: a zero chunk gives zeros instead of the official 0 / 0 = NaN


def _chunks(t: torch.Tensor, num_head: int) -> torch.Tensor:
    """(N, D) -> (N, K, D / K): the K contiguous chunks of every row."""
    return t.reshape(t.size(0), num_head, t.size(1) // num_head)


def causal_norm_logits(feats: torch.Tensor, weight: torch.Tensor, num_head: int = 2, tau: float = 16.0,
                       gamma: float = 1.0 / 32, embed: Optional[torch.Tensor] = None,
                       alpha: float = 0.0) -> torch.Tensor:
    """Logits of the causal-norm classifier, with the TDE counterfactual subtraction when ``embed`` is given.

    Features ``x`` (N, D) and class weights ``w`` (C, D) are cut into ``K = num_head`` contiguous chunks of D / K;
    per chunk ``x_hat_k = x_k / |x_k|`` and ``w_hat_ck = w_ck / (|w_ck| + gamma)``, and

        z_c = (tau / K) * sum_k w_hat_ck . x_hat_k                                      (training, De-confound)
        z_c = (tau / K) * sum_k w_hat_ck . (x_hat_k - alpha * cos(x_k, d_k) * d_hat_k)  (TDE, ``embed`` given)

    with ``d`` the moving-average feature ``embed`` (D,), ``d_hat_k = d_k / |d_k|`` and
    ``cos(x_k, d_k) = x_hat_k . d_hat_k``: the factual logits minus ``alpha * cos`` times the logits of the
    direction itself, head by head.

    Args:
        feats: features (N, D), D divisible by ``num_head``.
        weight: class weights (C, D).
        num_head: ``K``. Default 2.
        tau: the logit scale is ``tau / K``. Default 16.0.
        gamma: added to the weight-chunk norms. Default 1/32.
        embed: the moving-average feature (D,) or None (no subtraction).
        alpha: the strength of the subtraction. Default 0.0.

    Returns:
        logits (N, C).
    """
    x = F.normalize(_chunks(feats, num_head), dim=2, eps=_EPS)
    w = _chunks(weight, num_head)
    w = w / (w.norm(dim=2, keepdim=True).clamp_min(_EPS) + gamma)
    if embed is not None and alpha != 0:
        d = F.normalize(_chunks(embed.reshape(1, -1).to(x), num_head), dim=2, eps=_EPS)
        x = x - alpha * (x * d).sum(dim=2, keepdim=True) * d
    return (tau / num_head) * F.linear(x.flatten(1), w.flatten(1))


@register_into('MODELS', scopes=('mmpretrain',))
class CausalNormClsHead(ClsHead):
    """The causal-norm classifier of De-confound-TDE (see :func:`causal_norm_logits` for the formula), trained with
    plain cross-entropy, predicting with the TDE counterfactual subtraction.

    Training (``loss``, official ``Causal_Norm_Classifier.forward`` in training mode, lines 26-29): the multi-head
    normalised logits, no bias. Before them, in training mode only, the moving-average feature (the buffer
    ``embed_mean``, official ``run_networks.py`` ``batch_forward`` line 215, ``phase == 'train'``) becomes

        embed_mean <- momentum_now * embed_mean + mean_batch(x.detach())

    with no ``(1 - momentum)`` factor: only its direction is used. Under DDP the batch mean is that of the whole
    global batch, as under the official ``nn.DataParallel``: every rank all-reduces (SUM) its feature sum and its
    sample count, one (D + 1)-vector per iteration, and divides; every rank so keeps the same buffer, whatever its
    batch size (``sync=False`` keeps each rank's own mean, for comparison only). ``embed_mean`` is a buffer, so it
    is in checkpoints and restored by ``load_from`` / ``resume`` (the official code saves it as ``embed``).

    Prediction (``predict``, official lines 32-45, taken whenever the official head is in eval mode): the logits
    with the counterfactual subtraction of strength ``alpha``; the buffer is not updated. ``alpha = 0`` predicts
    with the factual logits ("De-confound" without TDE). ``alpha`` does not enter training, so a trained model can
    be tested with another one (``--cfg-options model.head.alpha=...``); the official README picks it so that
    ``alpha * mean(cos)`` is about 1. ``forward`` returns the training logits, as ``TauNormClsHead`` does.

    Momentum: ``momentum_now`` starts at ``momentum``. The official code keeps 0.9 on CIFAR and, on the other
    datasets, sets ``1 - (1 - 0.9) * min(50 * lr, 1)`` at every epoch start (``run_networks.py`` lines 305-309);
    :class:`TDEMomentumHook` applies that rule.

    Deviations from the official code:
        - a zero feature, weight or direction chunk is normalised to zeros (``|.|`` clamped at 1e-12) instead of
          giving NaN; in particular a model that has not trained yet predicts without a subtraction;
        - the moving average is a float32 buffer reduced across ranks (official: a numpy array on the host, the
          whole-batch mean under ``nn.DataParallel``, saved by rank 0 only);
        - the official run restores the best epoch's weights for its final test but keeps the last epoch's
          ``embed``; an ltmm checkpoint holds the weights and the ``embed_mean`` of the same iteration;
        - the official ``use_effect`` flag is ``alpha = 0`` here.

    Args:
        num_classes: ``C``.
        in_channels: feature dimension ``D``, divisible by ``num_head``.
        num_head: ``K``, the number of contiguous feature chunks normalised apart. Default 2 (official
            ``CausalNormClassifier.py`` line 9 and every ``config/*/causal_norm*.yaml``).
        tau: the logits are scaled by ``tau / num_head``. Default 16.0 (line 9, line 12).
        gamma: added to the norm of each weight chunk. Default 1/32 (line 9, ``causal_norm``).
        alpha: the TDE strength at test time. Default 3.0 (line 9; ``config/ImageNet_LT/causal_norm.yaml`` and
            ``Places_LT``); the CIFAR-LT configs use 1.5 (``config/CIFAR*_LT/causal_norm*.yaml``).
        momentum: the moving-average momentum (before :class:`TDEMomentumHook` scales it). Default 0.9
            (``run_networks.py`` line 46).
        sync: all-reduce the batch mean across ranks before the update. Default True.
        init_cfg: mmengine init config; None keeps the official ``U(-1/sqrt(D), 1/sqrt(D))`` initialisation
            (``reset_parameters``, lines 21-23).
        **kwargs: ``loss`` (default ``CrossEntropyLoss``, the official ``SoftmaxLoss``), ``topk``, ``cal_acc`` of
            mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, num_head: int = 2, tau: float = 16.0,
                 gamma: float = 1.0 / 32, alpha: float = 3.0, momentum: float = 0.9, sync: bool = True,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **fill_loss_num_classes(kwargs, num_classes, type(self).__name__))
        if num_classes <= 0 or in_channels <= 0 or num_head <= 0:
            raise ValueError(f'CausalNormClsHead: num_classes ({num_classes}), in_channels ({in_channels}) and '
                             f'num_head ({num_head}) must be positive')
        if in_channels % num_head:
            raise ValueError(f'CausalNormClsHead: in_channels={in_channels} is not divisible by num_head={num_head}')
        if not tau > 0:
            raise ValueError(f'CausalNormClsHead: tau must be positive, got {tau}')
        if not gamma >= 0:
            raise ValueError(f'CausalNormClsHead: gamma must be >= 0, got {gamma}')
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise ValueError(f'CausalNormClsHead: alpha must be a finite number >= 0, got {alpha}')
        if not 0 <= momentum <= 1:
            raise ValueError(f'CausalNormClsHead: momentum must be in [0, 1], got {momentum}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_head = num_head
        self.tau = float(tau)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.momentum = float(momentum)
        self.momentum_now = float(momentum)
        self.sync = sync
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        bound = 1.0 / math.sqrt(in_channels)
        nn.init.uniform_(self.weight, -bound, bound)
        self.register_buffer('embed_mean', torch.zeros(in_channels))

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The pooled feature of the last stage, checked to be (N, in_channels)."""
        x = feats[-1]
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f'CausalNormClsHead expects pooled features of shape (N, in_channels={self.in_channels})'
                             f', got {tuple(x.shape)}')
        return x

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The training (factual) logits, no subtraction."""
        return causal_norm_logits(self.pre_logits(feats), self.weight, self.num_head, self.tau, self.gamma)

    def predict_logits(self, feats: Tuple[torch.Tensor], alpha: Optional[float] = None) -> torch.Tensor:
        """The TDE logits: the subtraction of strength ``alpha`` (default ``self.alpha``) along ``embed_mean``."""
        return causal_norm_logits(self.pre_logits(feats), self.weight, self.num_head, self.tau, self.gamma,
                                  embed=self.embed_mean, alpha=self.alpha if alpha is None else alpha)

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        return self._get_predictions(self.predict_logits(feats), data_samples)

    @torch.no_grad()
    def update_embed(self, x: torch.Tensor) -> None:
        """``embed_mean <- momentum_now * embed_mean + mean(x)``, the mean over the global batch (see ``sync``)."""
        stats = torch.cat([x.detach().float().sum(dim=0), x.new_full((1,), x.size(0), dtype=torch.float32)])
        if self.sync:
            dist.all_reduce(stats, op='sum')
        if stats[-1] > 0:  # an empty (global) batch leaves the average as it is
            self.embed_mean.mul_(self.momentum_now).add_(stats[:-1] / stats[-1])

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> dict:
        x = self.pre_logits(feats)
        if self.training:
            self.update_embed(x)
        logits = causal_norm_logits(x, self.weight, self.num_head, self.tau, self.gamma)
        return self._get_loss(logits, data_samples, **kwargs)

    def scale_momentum(self, lr: float, lr_scale: float = 50.0) -> None:
        """The official lr-dependent momentum: ``momentum_now = 1 - (1 - momentum) * min(lr_scale * lr, 1)``."""
        self.momentum_now = 1.0 - (1.0 - self.momentum) * min(lr_scale * lr, 1.0)


@register_into('HOOKS', scopes=('mmpretrain',))
class TDEMomentumHook(Hook):
    """Before every training epoch, set the moving-average momentum of each :class:`CausalNormClsHead` of the model
    from the current learning rate, as the official code does on ImageNet-LT / Places-LT (not on CIFAR-LT):
    ``momentum_now = 1 - (1 - momentum) * min(lr_scale * lr, 1)``, with ``lr`` the largest learning rate of the
    optimiser(s) (official ``run_networks.py`` lines 305-309, ``show_current_lr``: the largest over modules and
    parameter groups, after the epoch's scheduler step). With momentum 0.9: 0.9 while ``lr >= 1 / lr_scale``, then
    up to 1 (pure accumulation) as ``lr`` reaches 0. Epoch-based loops only.

    Args:
        lr_scale: Default 50.0 (official line 306, ``current_lr * 50``).
    """
    priority = 'NORMAL'

    def __init__(self, lr_scale: float = 50.0) -> None:
        if not lr_scale > 0:
            raise ValueError(f'TDEMomentumHook: lr_scale must be positive, got {lr_scale}')
        self.lr_scale = float(lr_scale)

    def before_train_epoch(self, runner: Runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        heads = [m for m in model.modules() if isinstance(m, CausalNormClsHead)]
        if not heads:
            raise RuntimeError('TDEMomentumHook found no CausalNormClsHead in the model')
        lr = max(max(lrs) for lrs in runner.optim_wrapper.get_lr().values())
        for head in heads:
            head.scale_momentum(lr, self.lr_scale)
