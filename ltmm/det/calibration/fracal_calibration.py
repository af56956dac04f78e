"""FRACAL and NorCal: post-hoc calibration of a trained detector's class scores from training statistics, applied
at test time only (``CalibratedBBoxHead`` calls it where mmdet's bbox head turns its class logits into scores).

FRACAL: Alexandridis et al., "Fractal Calibration for long-tailed object detection", CVPR 2025 (arXiv 2410.11774);
official code kostas1515/FRACAL@3543fe4, ``mmdet/models/roi_heads/bbox_heads/fracal_bbox_head.py``
(``ConvFCFracalBBoxHead._predict_by_feat_single``, l.100-164), statistics from ``stat_files/``.
NorCal: Pan et al., "On Model Calibration for Long-Tailed Object Detection and Instance Segmentation", NeurIPS 2021
(arXiv 2107.02170); official code tydpan/NorCal@23e5ab6, ``projects/NorCal/norcal/roi_heads.py``
(``CalibrationFastRCNNOutputLayers.predict_probs``).

Notation: ``z`` the (N, C+1) logits of a softmax classifier (background last), ``n_c`` the number of training images
containing class ``c`` (``class_stats`` ``image_count``), ``N`` the number of images of the training annotation file,
``D_c`` the box-centre fractal dimension of ``c`` (``ltmm.core.fractal_dimension``), ``C`` the number of classes.

FRACAL, softmax classifier (the published setting):
    ``w_c = -log10(C n_c / N)``: ``base10`` column of ``stat_files/freq_lvis_v1_train.csv`` (``-log10(n_c / N)``,
    ``get_frequency.py`` l.57-67) plus ``ptarget = -log10(C)`` (fracal_bbox_head.py l.66-92, ``variant='base10'``);
    ``q = softmax(z + [w, 0])`` (l.158), then ``p_c = q_c / D_c^l`` with ``D_bg = 1`` and ``p`` renormalised over
    the C+1 columns (l.161-163). Equivalently ``p = softmax(z + s)`` with ``s_c = w_c - l ln D_c`` and ``s_bg = 0``
    (``w`` is a base-10 logarithm added to natural-log logits, as in the official code).
FRACAL, sigmoid classifier (a loss with a sigmoid ``get_activation``, l.152-156):
    ``phi_c = -log10(C D_c^l / sum_j D_j^l)`` and ``scores = act(z) * act(z + [w + phi, 0])``, without
    renormalisation.
NorCal (``TEST.CALIBRATION.METHOD='gamma'``, ``WITH='exps'``, ``RENORM=True``; the only mode here):
    ``p_c = exp(z_c) n_c^(-gamma)`` for the classes, ``p_bg = exp(z_bg)``, renormalised: ``p = softmax(z + s)`` with
    ``s_c = -gamma ln n_c``, ``s_bg = 0``.
A classifier whose loss has its own softmax-type activation (mmdet's ``SeesawLoss``: class probabilities times an
objectness, background last) is calibrated on its probabilities: ``p = renorm(q * exp(s))``, which is the formula
above when ``q = softmax(z)``.

Deviations from the official code and why:
- FRACAL reads the per-class image counts from ``class_stats`` (ltmm's one source of counts) and ``N`` and ``D``
  from the file ``tools/analysis/fractal_dimension.py`` writes (the official head reads two hard-coded CSV files of
  LVIS v1, ``dataset='lvis'``); the values are the same for LVIS v1 (``N`` = 100,170, every image of the train
  json, as ``get_frequency.py``; ``n_c`` from the annotations, equal to the LVIS categories' ``image_count``).
- the softmax path adds the shift to the logits before one softmax instead of dividing and renormalising after it
  (the same value up to rounding); NorCal likewise, with a max-subtracted softmax where the official code takes
  ``exp`` of raw logits (which overflows float32 above 88).
- the sigmoid path pads the shift with 0 for a background / objectness column, so it also runs with ltmm's C+1-logit
  sigmoid losses (the official shift has C entries and broadcasts only with C logits).
- softmax-type custom activations (Seesaw) are calibrated on their probabilities; the official code adds its C+1
  weights to Seesaw's C+2 logits, which does not broadcast.
- NorCal on a sigmoid classifier is an error: the official code defines it on softmax scores only.
- only the published variants: FRACAL ``variant='base10'`` with the ``box_dim`` dimension (the other link functions
  and ``*_obj`` instance-frequency variants are ablations), NorCal ``gamma`` on image counts (not ``'cb'``,
  ``WITH='logits'|'probs'`` or ``RENORM=False``).
- the per-class vectors are buffers that follow the module's device (the official ones are created on 'cuda') and
  are not saved in checkpoints (they come from the statistics files), so a checkpoint of the un-calibrated detector
  loads into a calibrated one and back.
"""
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.fractal_dimension import FractalLike, load_fractal_dimensions
from ...core.registry import register_into
from ..losses.bbox_head_contract import BBoxHeadContractLoss

__all__ = ['FRACALCalibration', 'fracal_frequency_logits', 'fracal_softmax_shift', 'fracal_sigmoid_shift',
           'norcal_shift', 'calibrate_softmax_logits', 'calibrate_probabilities', 'calibrate_sigmoid',
           'is_sigmoid_loss']

MODES = ('fracal', 'norcal')


def fracal_frequency_logits(image_count: np.ndarray, num_images: int) -> np.ndarray:
    """``w_c = -log10(C n_c / N)`` (float64, ``(C,)``): the official ``base10`` frequency weights plus
    ``ptarget = -log10(C)``."""
    counts = np.asarray(image_count, dtype=np.float64)
    return -np.log10(len(counts) * counts / num_images)


def fracal_softmax_shift(image_count: np.ndarray, num_images: int, fractal_dimension: np.ndarray,
                         fractal_l: float = 2.0) -> np.ndarray:
    """FRACAL's logit shift of a softmax classifier, ``(C+1,)`` float64: ``w_c - l ln D_c``, then 0 for the
    background."""
    shift = fracal_frequency_logits(image_count, num_images) - fractal_l * np.log(fractal_dimension)
    return np.append(shift, 0.0)


def fracal_sigmoid_shift(image_count: np.ndarray, num_images: int, fractal_dimension: np.ndarray,
                         fractal_l: float = 2.0) -> np.ndarray:
    """FRACAL's logit shift of a sigmoid classifier, ``(C,)`` float64: ``w_c + phi_c`` with
    ``phi_c = -log10(C D_c^l / sum_j D_j^l)``."""
    powered = np.asarray(fractal_dimension, dtype=np.float64) ** fractal_l
    phi = -np.log10(len(powered) * powered / powered.sum())
    return fracal_frequency_logits(image_count, num_images) + phi


def norcal_shift(image_count: np.ndarray, gamma: float) -> np.ndarray:
    """NorCal's logit shift, ``(C+1,)`` float64: ``-gamma ln n_c``, then 0 for the background."""
    return np.append(-gamma * np.log(np.asarray(image_count, dtype=np.float64)), 0.0)


def calibrate_softmax_logits(cls_score: Tensor, shift: Tensor) -> Tensor:
    """``softmax(z + s)`` over the C+1 columns, in float32 (at least)."""
    logits = cls_score.float() if cls_score.dtype in (torch.float16, torch.bfloat16) else cls_score
    return torch.softmax(logits + shift.to(logits), dim=-1)


def calibrate_probabilities(probs: Tensor, shift: Tensor) -> Tensor:
    """``q * exp(s)`` renormalised over the C+1 columns: the softmax formula for probabilities ``q`` that a loss's
    own activation produced."""
    probs = probs.float() if probs.dtype in (torch.float16, torch.bfloat16) else probs
    weighted = probs * torch.exp(shift.to(probs))
    return weighted / weighted.sum(dim=-1, keepdim=True)


def calibrate_sigmoid(cls_score: Tensor, shift: Tensor, activation: Callable[[Tensor], Tensor]) -> Tensor:
    """``act(z) * act(z + s)``, the shift padded with zeros to the classifier's width (a background or objectness
    logit is not shifted); ``act`` is the loss's ``get_activation``."""
    logits = cls_score.float()
    padded = logits.new_zeros(logits.size(-1))
    padded[:shift.numel()] = shift.to(logits)
    return activation(logits) * activation(logits + padded)


def is_sigmoid_loss(loss_cls: nn.Module) -> bool:
    """Whether a loss scores classes with sigmoids (ltmm's bbox-head contract losses, ``use_sigmoid=True``)."""
    return isinstance(loss_cls, BBoxHeadContractLoss) or bool(getattr(loss_cls, 'use_sigmoid', False))


@register_into('MODELS', scopes=('mmdet',))
class FRACALCalibration(nn.Module):
    """Test-time score calibration: FRACAL (``mode='fracal'``) or NorCal (``mode='norcal'``).

    Used by ``CalibratedBBoxHead(calibration=dict(type='FRACALCalibration', ...))``, which fills ``num_classes``.

    Args:
        num_classes: number of foreground classes C.
        class_stats: training statistics (``ltmm.core.class_stats``); the per-class ``image_count`` is used. Every
            class needs at least one training image.
        mode: ``'fracal'`` or ``'norcal'``.
        fractal_dims: FRACAL: the JSON file ``tools/analysis/fractal_dimension.py`` writes from the training
            annotations (or its dict); its ``num_images`` (every training image) is the frequency denominator ``N``
            and its ``image_count`` and ``instance_count`` must equal ``class_stats``'. Not used by NorCal.
        fractal_l: FRACAL: the exponent ``l`` of ``D_c`` (official ``fractal_l``: 2, experiments/
            r50_rfs_cos_lr_norm_4x4_2x_softmax_carafe/fracal_r50_rfs_cos_lr_norm_4x4_2x_softmax_carafe.py l.86).
        gamma: NorCal: the exponent of ``n_c`` (required; the official ``TEST.CALIBRATION.GAMMA`` defaults to 0, no
            calibration, and is chosen per model).

    Raises:
        FileNotFoundError: a statistics file that does not exist (the message names it and, for the fractal
            dimensions, the command that writes it).
        ValueError: an unknown mode, a missing or unused argument of the mode, statistics of another label space, a
            class without training images, or fractal dimensions counted from other annotations.
    """

    def __init__(self, num_classes: int, class_stats: ClassStatsLike, mode: str = 'fracal',
                 fractal_dims: Optional[FractalLike] = None, fractal_l: float = 2.0, gamma: Optional[float] = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f'FRACALCalibration: mode must be one of {MODES}, got {mode!r}')
        stats = load_class_stats(class_stats, num_classes)
        self.num_classes = num_classes
        self.mode = mode
        self.fractal_l = fractal_l
        self.gamma = gamma
        if mode == 'fracal':
            if gamma is not None:
                raise ValueError(f'FRACALCalibration: gamma={gamma} is NorCal\'s parameter; FRACAL (mode=\'fracal\') '
                                 f'uses fractal_l')
            if fractal_dims is None:
                raise ValueError('FRACALCalibration(mode=\'fracal\') needs fractal_dims: the file '
                                 'tools/analysis/fractal_dimension.py writes from the training annotations')
            dims = load_fractal_dimensions(fractal_dims, num_classes)
            for field in ('image_count', 'instance_count'):
                theirs, ours = getattr(dims, field), getattr(stats, field)
                if not np.array_equal(theirs, ours):
                    first = int(np.flatnonzero(theirs != ours)[0])
                    raise ValueError(
                        f'fractal dimension file {dims.source} was computed from other annotations than class_stats '
                        f'{stats.source}: class index {first} has {field} {theirs[first]} there and {ours[first]} '
                        f'here')
            softmax = fracal_softmax_shift(stats.image_count, dims.num_images, dims.fractal_dimension, fractal_l)
            sigmoid = fracal_sigmoid_shift(stats.image_count, dims.num_images, dims.fractal_dimension, fractal_l)
            self.register_buffer('sigmoid_shift', torch.tensor(sigmoid, dtype=torch.float32), persistent=False)
        else:
            if gamma is None:
                raise ValueError('FRACALCalibration(mode=\'norcal\') needs gamma (NorCal\'s official default 0 is no '
                                 'calibration; the paper chooses it per model)')
            if fractal_dims is not None:
                raise ValueError('FRACALCalibration: fractal_dims is FRACAL\'s; NorCal (mode=\'norcal\') uses gamma '
                                 'only')
            softmax = norcal_shift(stats.image_count, gamma)
            self.register_buffer('sigmoid_shift', None, persistent=False)
        self.register_buffer('softmax_shift', torch.tensor(softmax, dtype=torch.float32), persistent=False)

    def extra_repr(self) -> str:
        detail = f'fractal_l={self.fractal_l}' if self.mode == 'fracal' else f'gamma={self.gamma}'
        return f'mode={self.mode!r}, num_classes={self.num_classes}, {detail}'

    def forward(self, cls_score: Tensor, loss_cls: Optional[nn.Module] = None) -> Tensor:
        """Calibrated test scores, ``(N, C+1)`` with the background last (what ``multiclass_nms`` takes).

        Args:
            cls_score: the bbox head's class logits.
            loss_cls: the head's ``loss_cls`` when it sets ``custom_cls_channels`` (its ``get_activation`` scores the
                logits); None for a plain softmax classifier.
        """
        if loss_cls is None:
            self._check_width(cls_score.size(-1), self.num_classes + 1, 'softmax')
            return calibrate_softmax_logits(cls_score, self.softmax_shift)
        if is_sigmoid_loss(loss_cls):
            if self.sigmoid_shift is None:
                raise ValueError(f'NorCal is defined on softmax scores; {type(loss_cls).__name__} scores with sigmoids '
                                 f'(use mode=\'fracal\')')
            if cls_score.size(-1) not in (self.num_classes, self.num_classes + 1):
                self._check_width(cls_score.size(-1), self.num_classes + 1, type(loss_cls).__name__)
            return calibrate_sigmoid(cls_score, self.sigmoid_shift, loss_cls.get_activation)
        probs = loss_cls.get_activation(cls_score)
        self._check_width(probs.size(-1), self.num_classes + 1, f'{type(loss_cls).__name__}.get_activation')
        return calibrate_probabilities(probs, self.softmax_shift)

    def _check_width(self, width: int, expected: int, what: str) -> None:
        if width != expected:
            raise ValueError(f'FRACALCalibration({self.mode}) built for {self.num_classes} classes expects {expected} '
                             f'{what} scores per RoI, got {width}')
