"""GOL: Gumbel Optimised Loss for long-tailed instance segmentation.

Alexandridis et al., "Long-tailed Instance Segmentation using Gumbel Optimized Loss", ECCV 2022
(arXiv 2207.10936). Official code: kostas1515/GOL (mmdet 2.21 fork) ``mmdet/models/losses/droploss.py``, class
``DropLoss`` with ``use_classif='gumbel'``; configs ``configs/gol/droploss_normed_mask_*_gumbel.py``.
"""
import math
from typing import Dict, Optional, Sequence

import torch
from mmengine import dist
from torch import Tensor

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .bbox_head_contract import BBoxHeadContractLoss
from .equalization_loss import eql_masked_negatives, eql_tail_mask

#: the logit at which the Gumbel probability is 1/2: G(z) = exp(-exp(-z)) = 0.5 at z = -ln(ln 2) = 0.3665
GUMBEL_HALF_LOGIT = -math.log(math.log(2.0))


def gumbel_activation(cls_score: Tensor) -> Tensor:
    """The Gumbel CDF ``G(z) = exp(-exp(-z))``, in float32."""
    return torch.exp(-torch.exp(-cls_score.float()))


def gumbel_pos_loss(z: Tensor) -> Tensor:
    """``BCE(G(z), 1) = -ln G(z) = exp(-z)`` (closed form of the official ``F.binary_cross_entropy(G(z), 1)``)."""
    return torch.exp(-z)


class GumbelNegLoss(torch.autograd.Function):
    """``BCE(G(z), 0) = -ln(1 - G(z)) = -ln(-expm1(-x))`` with ``x = exp(-z)``, and its gradient
    ``x / expm1(x)`` in closed form: autograd through ``expm1`` computes its derivative from the rounded result and
    loses it below z = -2.8 in float32, where the official ``F.binary_cross_entropy`` keeps it (about 4e-8 at
    z = -3). Float32 over |z| <= 80 (the allowed clamp)."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:  # type: ignore[override]
        x = torch.exp(-z)
        ctx.save_for_backward(x)
        return -torch.log(-torch.expm1(-x))

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * x / torch.expm1(x)  # expm1 overflows to inf past z = -4.5: a zero gradient, as the exact one


def gumbel_neg_loss(z: Tensor) -> Tensor:
    """``BCE(G(z), 0) = -ln(1 - G(z))`` elementwise (:class:`GumbelNegLoss`)."""
    return GumbelNegLoss.apply(z)


def gol_tail_ratio(labels: Tensor, tail_mask: Tensor) -> Tensor:
    """GOL's ``r``: the fraction of the batch's foreground RoIs whose class is tail (0-dim float32); NaN when the batch
    has no foreground RoI, as the official ``torch.mean`` of an empty selection (every ``U > r`` is then False, so a
    background RoI drops nothing). Computed without a host sync."""
    num_classes = tail_mask.numel()
    is_fg = labels < num_classes
    is_tail = tail_mask[labels.clamp(max=num_classes - 1)] & is_fg
    return is_tail.sum().float() / is_fg.sum().float()


@register_into('MODELS', scopes=('mmdet',))
class GumbelLoss(BBoxHeadContractLoss):
    """GOL: Gumbel-activated binary cross-entropy over C class logits (no background logit), combined with EQL's
    drop of tail-class negatives (the DropLoss variant of EQL).

    For RoI i and class j < C, with one-hot targets ``y_ij`` (a background RoI has an all-zero row):

    - ``p_ij = G(clamp(z_ij, *logit_clamp))`` with the Gumbel CDF ``G(z) = exp(-exp(-z))``; the elementwise loss is
      ``BCE(p_ij, y_ij)``: ``exp(-z)`` for a positive, ``-ln(1 - G(z))`` for a negative. The clamp is part of the
      method: the gradient is 0 below -4 and above 10 and the largest positive term is ``e^4``.
    - tail classes ``T_j = [f_j < lambda_]``, ``f_j = image_count_j / num_images`` (as EQL).
    - ``r`` = the fraction of the batch's foreground RoIs whose class is tail (computed per GPU, as the official).
    - ``w_ij = 1 - T_j [E_i + (1 - E_i) D_ij] (1 - y_ij)`` with ``E_i = 1`` for a foreground RoI and
      ``D_ij = [U_ij > r]``, ``U_ij ~ U(0, 1)`` i.i.d.: foreground RoIs send no negative gradient to tail classes
      (EQL), and a background RoI keeps each tail-class negative with probability ``r``. With no foreground RoI in
      the batch nothing is dropped (the official ``r`` is NaN then).
    - ``L = loss_weight * sum_ij w_ij BCE(p_ij, y_ij) / N``; ``label_weights`` and ``avg_factor`` are ignored
      (official).

    Test scores (``get_activation``): ``G(z)`` without clamp on the C columns plus a zero background column, which
    ``multiclass_nms`` drops; no objectness factor. The official recipe scores with NMS IoU 0.3 (``test_cfg``) and
    initialises ``fc_cls`` with ``init_cfg=dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))``
    (a prior of ``G(-2) = 6.2e-4``), which also leaves ``fc_reg`` and ``shared_fcs`` at PyTorch's default init, since
    an ``init_cfg`` replaces the bbox head's default one.

    Args:
        num_classes: number of foreground classes C (1203 LVIS v1, 1230 LVIS v0.5).
        class_stats: training class statistics (``ltmm.core.class_stats``); ``image_count / num_images`` give
            ``f_j``; ``num_images`` counts the annotated training images (99,388 in LVIS v1, 56,740 in v0.5: the
            denominators of the official category tables ``mmdet/utils/lvis_v1_0_categories.py``). A class without
            image is tail.
        lambda_: frequency threshold of the tail. Default 0.0011, the official LVIS v1 config (815 tail classes);
            0.00177 for LVIS v0.5 (the ``DropLoss`` default, used by the official v0.5 config).
        logit_clamp: (low, high) clamp of the logits in the loss, within [-80, 80]. Default (-4, 10) (droploss.py
            l.116); the AGLU re-implementation (kostas1515/AGLU ``mmdetection_v3.2``) uses (-10, 10).
        seed: seed of the drop draws. Default 0.
        loss_weight: multiplier of the loss. Default 1.0.

    The drop draws are reproducible: each call draws from a generator on the logits' device seeded with
    ``(seed, rank, call index)``; the call index is a buffer (``num_calls``), so a resumed run continues the same
    sequence, and ranks draw independently, as the official per-GPU ``torch.rand_like``.

    Deviations from the official code (values equal within float rounding):
    - the Gumbel BCE is computed in closed form (``exp(-z)``; ``-ln(-expm1(-exp(-z)))`` with its exact gradient) in
      float32 instead of ``F.binary_cross_entropy(G(z), y)``, whose log is floored at -100: within the clamp the
      floor is never reached, and the closed form avoids rounding ``1 - G(z)`` near z = 10;
    - uniforms are drawn for the tail columns only (N x #tail), from a seeded generator, instead of
      ``torch.rand_like`` on the whole N x C grid (the same distribution on every entry the drop can affect);
    - ``get_accuracy`` also reports ``acc_objectness`` (a RoI predicted background when no class has
      ``G(z) > 0.5``), a monitor the official loss does not log; ``acc_classes`` is the official one.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, lambda_: float = 0.0011,
                 logit_clamp: Sequence[float] = (-4.0, 10.0), seed: int = 0, loss_weight: float = 1.0):
        super().__init__(num_classes, objectness=False, loss_weight=loss_weight)
        low, high = (float(v) for v in logit_clamp)
        if not -80 <= low < high <= 80:
            raise ValueError(f'GumbelLoss: logit_clamp must be (low, high) with -80 <= low < high <= 80 (float32 '
                             f'range of exp(-z)), got {logit_clamp}')
        self.lambda_ = lambda_
        self.logit_clamp = (low, high)
        self.seed = seed
        tail_mask = eql_tail_mask(class_stats, num_classes, lambda_)
        self.register_buffer('tail_mask', tail_mask, persistent=False)
        self.register_buffer('tail_index', tail_mask.nonzero().squeeze(1), persistent=False)
        self.register_buffer('num_calls', torch.zeros((), dtype=torch.int64))
        self._generators: Dict[torch.device, torch.Generator] = {}

    def get_cls_channels(self, num_classes: int) -> int:
        """C class logits, no background logit."""
        self._check_num_classes(num_classes)
        return num_classes

    def get_activation(self, cls_score: Tensor) -> Tensor:
        """Test-time scores (N, C+1): ``G(z)`` on the C class logits, then a zero background column."""
        scores = gumbel_activation(cls_score[:, :self.num_classes])
        return torch.cat([scores, scores.new_zeros((scores.size(0), 1))], dim=1)

    def get_accuracy(self, cls_score: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """``acc_classes`` (top-1 over the C logits on foreground RoIs, official) and ``acc_objectness`` (background
        predicted when no class has ``G(z) > 0.5``), in percent."""
        return super().get_accuracy(cls_score.detach().float() - GUMBEL_HALF_LOGIT, labels)

    def generator(self, device: torch.device) -> torch.Generator:
        """This call's generator on ``device``, seeded with (seed, rank, call index); advances the call index."""
        gen = self._generators.get(device)
        if gen is None:
            gen = self._generators[device] = torch.Generator(device=device)
        gen.manual_seed((self.seed * 1_000_003 + dist.get_rank()) * 1_000_003 + int(self.num_calls))
        self.num_calls += 1
        return gen

    def forward(self, cls_score: Tensor, labels: Tensor, label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        self.check_reduction(reduction_override)
        if cls_score.size(1) != self.num_classes:
            raise ValueError(f'GumbelLoss: expected {self.num_classes} class logits (no background logit), got '
                             f'{cls_score.size(1)}')
        z = cls_score.float().clamp(*self.logit_clamp)
        is_fg = labels < self.num_classes
        cols = labels.clamp(max=self.num_classes - 1).unsqueeze(1)
        neg = gumbel_neg_loss(z)
        neg_own = neg.gather(1, cols).squeeze(1)
        total = neg.sum() + ((gumbel_pos_loss(z.gather(1, cols).squeeze(1)) - neg_own) * is_fg).sum()
        # EQL: no tail negatives from foreground RoIs
        neg_tail = neg.index_select(1, self.tail_index)
        dropped = eql_masked_negatives(neg_tail, neg_own, labels, self.tail_mask)
        # background RoIs: each tail negative dropped where U > r (r NaN without foreground RoI: nothing dropped)
        uniform = torch.rand(neg_tail.shape, generator=self.generator(z.device), device=z.device)
        drop = (uniform > gol_tail_ratio(labels, self.tail_mask)) & ~is_fg.unsqueeze(1)
        dropped = dropped + (neg_tail * drop).sum()
        return self.loss_weight * (total - dropped) / max(cls_score.size(0), 1)
