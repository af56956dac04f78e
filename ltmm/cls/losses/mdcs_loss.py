"""MDCS: Multi-experts with Diversity and Consistency Self-distillation (Zhao et al., "MDCS: More Diverse Experts with
Consistency Self-distillation for Long-tailed Recognition", ICCV 2023; official code fistyee/MDCS, no licence file,
read at commit 1a1d54e5 to check facts; re-implemented from its maths, nothing copied).

Three experts on RIDE's multi-expert network (cosine classifiers x ``s = 30``, the scale applied in the head, so the
logits ``z_k`` below already include it). A training batch holds ``B`` images twice: the weak views first, then the
strong views of the same images (``[weak; strong]``, ``2B`` rows, labels duplicated; ``MDCSClassifier``). With
the training counts ``n`` (raw counts, not priors) and the per-expert exponents ``lambda_k``
(``model/loss.py`` ``MDCSLoss.forward`` lines 361-365)::

    z~_k = z_k + log(n ** lambda_k + 1e-9)                          # diversity: log-count shift per expert
    L_DL = sum_k CE(z~_k, y)                                         # mean over all 2B rows (weak and strong)
    p_k  = softmax(z~_k[weak] / T).detach()                          # teacher, T = 1
    q_k  = log_softmax(z~_k[strong] / T)                             # student
    M_k  = {i : argmax p_k[i] == y_i}                                # confident instance sampling (CIS)
    L_CS = sum_k T^2 * sum_{i in M_k} KL(p_k[i] || q_k[i]) / |M_k|   # skipped for an expert when M_k is empty
    L    = L_DL + w_CS * min(e / warmup, 1) * L_CS                   # e: the epoch counted from 1

``lambda = (-0.5, 1, 2.5)`` makes a head-leaning, a balanced-softmax and a tail-leaning expert; the official code
uses these three values on every dataset (its ``tau`` argument is ignored). The CE of each expert is the batch mean
over the ``2B`` rows (``F.cross_entropy(expert_logits, target)`` on the concatenated batch, lines 418-425); the KL is
``F.kl_div(..., reduction='batchmean')`` over the masked rows only (lines 405-416). Prediction: the mean of the raw
(unshifted) expert logits (``MultiExpertClsHead`` without fusion, as the official ``test.py``).

The DRW weights, DINO-style centre buffers and ``additional_diversity_factor`` that the official ``__init__`` builds
are unused by its ``forward`` and not taken here.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from ...core.class_stats import ClassStatsLike
from ...core.registry import register_into
from .base import ClassificationLoss

COUNT_EPS = 1e-9  # the official ``log(n ** lambda + 1e-9)`` (model/loss.py lines 361-365)


def mdcs_logit_adjustments(counts, lambdas: Sequence[float] = (-0.5, 1.0, 2.5)) -> torch.Tensor:
    """The additive shift ``log(n ** lambda_k + 1e-9)`` of each expert's logits, shape (K, C), float32 (the official
    code casts the counts to float32 first and takes the power and logarithm in float32).

    Args:
        counts: (C,) training counts, all positive (a zero count to a negative power is infinite).
        lambdas: the exponent of each expert. Default (-0.5, 1, 2.5) (``MDCSLoss.forward``, lines 361-365).
    """
    n = torch.as_tensor(np.asarray(counts, dtype=np.float64)).float()
    return torch.stack([torch.log(torch.pow(n, float(lam)) + COUNT_EPS) for lam in lambdas])


def mdcs_loss(expert_logits: torch.Tensor, label: torch.Tensor, adjustments: torch.Tensor,
              temperature: float = 1.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """MDCS's diversity loss and consistency self-distillation (module docstring) of one ``[weak; strong]`` batch.

    Args:
        expert_logits: (2B, K, C) expert logits, the B weak views first, then the B strong views of the same images.
        label: (2B,) class indices (the labels of the weak half repeated for the strong half).
        adjustments: (K, C) per-expert logit shifts (:func:`mdcs_logit_adjustments`).
        temperature: ``T`` of the distillation. Default 1.0 (hard-coded in the official code).

    Returns:
        ``(L_DL, L_CS)``: the diversity loss and the unweighted distillation loss (both scalars).
    """
    if expert_logits.dim() != 3 or expert_logits.shape[1:] != adjustments.shape:
        raise ValueError(f'expected expert logits of shape (2B, {adjustments.size(0)}, {adjustments.size(1)}), got '
                         f'{tuple(expert_logits.shape)}')
    if expert_logits.size(0) % 2 or label.shape != expert_logits.shape[:1]:
        raise ValueError(f'MDCS needs a [weak; strong] batch of 2B rows and 2B labels, got '
                         f'{expert_logits.size(0)} rows and labels of shape {tuple(label.shape)}')
    half = expert_logits.size(0) // 2
    if not torch.equal(label[:half], label[half:]):
        raise ValueError('MDCS: the strong views (second half of the batch) must carry the labels of the weak views '
                         '(first half), in the same order')
    shifted = expert_logits + adjustments.unsqueeze(0)
    diversity = sum(F.cross_entropy(shifted[:, k], label) for k in range(shifted.size(1)))
    distill = shifted.new_zeros(())
    for k in range(shifted.size(1)):
        teacher = F.softmax(shifted[:half, k] / temperature, dim=1).detach()
        student = F.log_softmax(shifted[half:, k] / temperature, dim=1)
        confident = teacher.argmax(dim=1) == label[:half]
        if confident.any():
            distill = distill + F.kl_div(student[confident], teacher[confident], reduction='batchmean') \
                * temperature ** 2
    return diversity, distill


@register_into('MODELS', scopes=('mmpretrain',))
class MDCSLoss(ClassificationLoss):
    """MDCS's loss (module docstring) for the (2B, K, C) expert logits of ``MultiExpertClsHead`` on a ``[weak;
    strong]`` batch (``MDCSClassifier``).

    The distillation weight depends on the epoch: ``LossEpochHook`` calls :meth:`set_epoch` with mmengine's 0-indexed
    epoch ``e0`` before every training epoch (also after a resume); the official trainer counts epochs from 1, so the
    weight is ``cs_weight * min((e0 + 1) / warmup, 1)`` (0.03 in the first epoch, 0.6 from the 20th on). The epoch
    is a buffer (saved in checkpoints); a loss called before any ``set_epoch`` is an error (add ``LossEpochHook``).

    Normalisation: as the official code, the sum over experts of the CE batch means over the 2B rows, plus the
    weighted distillation (batch mean over the confident rows of each expert). The CIS mask and its count are per
    rank under DDP, as the official ``nn.DataParallel`` run computes them on its whole batch (a deviation only in
    which rows share a denominator). Only hard labels; 'mean' reduction only (the loss is not a sum of per-sample
    terms).

    Args:
        class_stats: training class counts (see :mod:`ltmm.core.class_stats`); all must be positive (a zero count
            makes the head expert's shift ``log(0 ** -0.5)`` infinite).
        num_classes: ``C``, checked against ``class_stats`` when given (``MultiExpertClsHead`` fills it in).
        lambdas: the per-expert exponents of the counts. Default (-0.5, 1, 2.5) (``model/loss.py`` lines 361-365,
            the same on every dataset).
        cs_weight: the weight of the distillation after the warm-up. Default 0.6 (line 418).
        warmup: epochs over which the distillation weight ramps up linearly. Default 20 (``self.warmup = 20``).
        temperature: ``T`` of the distillation. Default 1.0 (``temperature = 1``, line 356).
        loss_weight: multiplies the loss. Default 1.0.
    """
    multi_expert = True
    logit_shape = ('N', 'K', 'C')

    def __init__(self, class_stats: ClassStatsLike, num_classes: Optional[int] = None,
                 lambdas: Sequence[float] = (-0.5, 1.0, 2.5), cs_weight: float = 0.6, warmup: int = 20,
                 temperature: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__(class_stats, num_classes, loss_weight=loss_weight, reduction='mean', allow_zero=False)
        lambdas = tuple(float(lam) for lam in lambdas)
        if not lambdas or not all(np.isfinite(lambdas)):
            raise ValueError(f'MDCSLoss: lambdas must be a non-empty list of finite exponents, got {lambdas}')
        if not np.isfinite(cs_weight) or cs_weight < 0:
            raise ValueError(f'MDCSLoss: cs_weight must be finite and >= 0, got {cs_weight}')
        if int(warmup) != warmup or warmup < 1:
            raise ValueError(f'MDCSLoss: warmup must be a positive number of epochs, got {warmup}')
        if not temperature > 0:
            raise ValueError(f'MDCSLoss: temperature must be > 0, got {temperature}')
        self.lambdas = lambdas
        self.num_experts = len(lambdas)
        self.cs_weight = float(cs_weight)
        self.warmup = int(warmup)
        self.temperature = float(temperature)
        self.register_buffer('adjustments', mdcs_logit_adjustments(self.stats.image_count, lambdas),
                             persistent=False)
        self.register_buffer('epoch', torch.tensor(-1, dtype=torch.long))

    def set_epoch(self, epoch: int) -> None:
        """Enter the 0-indexed training ``epoch`` (``LossEpochHook``)."""
        if epoch < 0:
            raise ValueError(f'MDCSLoss: epoch must be >= 0, got {epoch}')
        if int(self.epoch) < 0:
            print_log(f'MDCS: consistency weight {self.cs_factor_at(epoch):.4g} at epoch {epoch}', logger='current')
        self.epoch.fill_(epoch)

    def cs_factor_at(self, epoch: int) -> float:
        """``cs_weight * min((epoch + 1) / warmup, 1)`` for the 0-indexed ``epoch``."""
        return self.cs_weight * min((epoch + 1) / self.warmup, 1.0)

    @property
    def cs_factor(self) -> float:
        """The distillation weight of the current epoch."""
        if int(self.epoch) < 0:
            raise RuntimeError('MDCSLoss: no epoch set; its distillation weight follows the epoch: add '
                               "dict(type='LossEpochHook') to custom_hooks")
        return self.cs_factor_at(int(self.epoch))

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args: cls_score (2B, K, C) expert logits of a ``[weak; strong]`` batch; label (2B,) class indices.
        ``avg_factor`` is ignored (the official normalisation, class docstring); sample weights and other
        reductions than 'mean' are refused."""
        if weight is not None or reduction_override not in (None, 'mean'):
            raise ValueError(f'MDCSLoss takes no sample weights and only the mean reduction, got weight '
                             f'{"given" if weight is not None else None} and reduction_override={reduction_override!r}')
        if label.dim() != 1:
            raise ValueError(f'MDCSLoss needs hard labels (2B,), got labels of shape {tuple(label.shape)}')
        if cls_score.dim() != 3 or cls_score.size(-1) != self.num_classes or cls_score.size(1) != self.num_experts:
            raise ValueError(f'MDCSLoss: expert logits of shape {tuple(cls_score.shape)}, expected (2B, '
                             f'{self.num_experts}, {self.num_classes}) for {len(self.lambdas)} lambdas and class_stats '
                             f'from {self.stats.source}; set the head\'s num_experts={self.num_experts}')
        diversity, distill = mdcs_loss(cls_score.float(), label, self.adjustments, self.temperature)
        return self.loss_weight * (diversity + self.cs_factor * distill)
