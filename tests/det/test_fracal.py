"""FRACAL and NorCal (``FRACALCalibration``, ``CalibratedBBoxHead``) and the box-centre fractal dimension
(``ltmm.core.fractal_dimension``, ``tools/analysis/fractal_dimension.py``).

Expected values come from naive float64 transcriptions of the official code written here, line by line:
kostas1515/FRACAL@3543fe4 ``fracal_bbox_head.py`` (weights l.66-96, scores l.149-163), ``stat_files/get_frequency.py``
and ``stat_files/calculate_fractality.py`` (a mask per grid cell and ``scipy.optimize.curve_fit``);
tydpan/NorCal@23e5ab6 ``projects/NorCal/norcal/roi_heads.py`` (``predict_probs``, ``WITH='exps'``). Plus
hand-computed cases, the background column, the scores through the bbox head's predict path (softmax and the loss's
``get_activation``), checkpoints, bad inputs, the configs, and the LT-Shapes / LVIS CPU smokes.
"""
import copy
import json
import math
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.models.layers import multiclass_nms
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict

import ltmm.det  # noqa: F401  (registers the modules)
from ltmm.core.fractal_dimension import (
    FractalDimensions,
    compute_fractal_dimensions,
    fractal_dimensions,
    load_fractal_dimensions,
    occupied_cells,
)
from ltmm.det.calibration.fracal_calibration import FRACALCalibration

from ..helpers import DET_CFG, REPO, run, tool
from .test_losses import close, head_inputs, head_loss_inputs

# 3 classes: images with the class / all images of the training json (annotated 60 of 64), boxes, fractal dimensions
IMAGE_COUNT = [50, 5, 1]
INSTANCE_COUNT = [120, 9, 2]
NUM_IMAGES = 64
DIMS = [1.8, 1.3, 1.0]


def stats(image_count: Sequence[int] = IMAGE_COUNT, instance_count: Sequence[int] = INSTANCE_COUNT) -> dict:
    return dict(num_images=60, image_count=list(image_count), instance_count=list(instance_count))


def fractal(dims: Sequence[float] = DIMS, num_images: int = NUM_IMAGES, image_count: Sequence[int] = IMAGE_COUNT,
            instance_count: Sequence[int] = INSTANCE_COUNT) -> dict:
    return dict(fractal_dimension=list(dims), num_images=num_images, image_count=list(image_count),
                instance_count=list(instance_count))


def fracal_cfg(**kwargs) -> dict:
    cfg = dict(type='FRACALCalibration', num_classes=3, class_stats=stats(), fractal_dims=fractal())
    cfg.update(kwargs)
    return cfg


def norcal_cfg(gamma: float = 0.5, **kwargs) -> dict:
    cfg = dict(type='FRACALCalibration', num_classes=3, mode='norcal', class_stats=stats(), gamma=gamma)
    cfg.update(kwargs)
    return cfg


def logits(num_rois: int = 7, width: int = 4, seed: int = 0, scale: float = 4.0) -> torch.Tensor:
    return torch.randn(num_rois, width, generator=torch.Generator().manual_seed(seed)) * scale


# ---------------------------------------------------------------------------------------------------------------
# naive transcriptions of the official code (float64)
# ---------------------------------------------------------------------------------------------------------------
def official_weights(img_freq: Sequence[int], num_images: int, use_sigmoid: bool) -> torch.Tensor:
    """``get_fracal_weights(variant='base10')``: the csv's ``base10`` column (get_frequency.py: -log10(doc_freq /
    number of images)) plus ``ptarget`` of ``freqs = ones * 300``; a 0 appended for softmax."""
    base10 = -np.log10(np.asarray(img_freq, dtype=np.float64) / num_images)
    freqs = np.ones(len(img_freq)) * 300
    ptarget = -np.log10(freqs.sum() / freqs)
    fg_weights = base10 + ptarget
    if not use_sigmoid:
        fg_weights = fg_weights.tolist() + [0.0]
    return torch.tensor(fg_weights, dtype=torch.float64).unsqueeze(0)


def official_fracal_softmax(cls_score: torch.Tensor, img_freq=IMAGE_COUNT, num_images=NUM_IMAGES, dims=DIMS,
                            fractal_l: float = 2.0) -> torch.Tensor:
    """``_predict_by_feat_single`` of a softmax CE head (custom_cls_channels False, use_sigmoid False)."""
    weights = official_weights(img_freq, num_images, use_sigmoid=False)
    fractal_weights = torch.tensor(list(dims) + [1.0], dtype=torch.float64)
    scores = F.softmax(cls_score.double() + weights, dim=-1)
    scores = scores / (fractal_weights ** fractal_l)
    scores /= scores.sum(dim=1, keepdim=True)
    return scores


def official_fracal_sigmoid(cls_score: torch.Tensor, activation: Callable, img_freq=IMAGE_COUNT,
                            num_images=NUM_IMAGES, dims=DIMS, fractal_l: float = 2.0, pad: int = 0) -> torch.Tensor:
    """The ``custom_cls_channels`` + ``use_sigmoid`` branch (l.152-156); ``pad`` zeros append the shift for a
    background / objectness logit (the official shift has C entries)."""
    weights = official_weights(img_freq, num_images, use_sigmoid=True)
    fractal_weights = torch.tensor(list(dims), dtype=torch.float64) ** fractal_l
    fractal_weights = fractal_weights / fractal_weights.sum()
    fractal_prob = -torch.log10(fractal_weights) + torch.log10(torch.tensor(1 / len(dims), dtype=torch.float64)).item()
    shift = torch.cat([weights + fractal_prob, torch.zeros(1, pad, dtype=torch.float64)], dim=1)
    z = cls_score.double()
    return activation(z) * activation(z + shift)


def official_norcal(cls_score: torch.Tensor, image_count=IMAGE_COUNT, gamma: float = 0.5) -> torch.Tensor:
    """``CalibrationFastRCNNOutputLayers``: method 'gamma', calibrate_on 'exps', renorm True."""
    frequencies = torch.as_tensor(list(image_count), dtype=torch.float64).view(1, -1)
    weight = 1 / frequencies ** gamma
    probs = torch.exp(cls_score.double())
    probs[:, :-1] *= weight
    probs /= probs.sum(dim=1, keepdim=True)
    return probs


# ---------------------------------------------------------------------------------------------------------------
# the formulas
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('fractal_l', [2.0, 1.0, 0.0])
def test_fracal_softmax_vs_official(fractal_l):
    calib = MODELS.build(fracal_cfg(fractal_l=fractal_l))
    z = logits()
    close(calib(z), official_fracal_softmax(z, fractal_l=fractal_l), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize('gamma', [0.0, 0.5, 1.2])
def test_norcal_vs_official(gamma):
    calib = MODELS.build(norcal_cfg(gamma))
    z = logits(seed=1)
    close(calib(z), official_norcal(z, gamma=gamma), rtol=1e-5, atol=1e-8)


def test_shifts_by_hand():
    # 2 classes in 1000 images: n = 10 and 1000, D = 1 and 2, l = 2
    two = dict(num_images=1000, image_count=[10, 1000], instance_count=[10, 1000])
    calib = FRACALCalibration(2, two, fractal_dims=dict(fractal_dimension=[1.0, 2.0], num_images=1000,
                                                         image_count=[10, 1000], instance_count=[10, 1000]))
    w0, w1 = -math.log10(2 * 10 / 1000), -math.log10(2 * 1000 / 1000)  # 1.69897, -0.30103
    close(calib.softmax_shift, torch.tensor([w0, w1 - 2 * math.log(2), 0.0]))
    # sigmoid: D^2 / sum = 1/5, 4/5 -> phi = -log10(2/5), -log10(8/5)
    close(calib.sigmoid_shift, torch.tensor([w0 - math.log10(0.4), w1 - math.log10(1.6)]))
    norcal = FRACALCalibration(2, two, mode='norcal', gamma=0.5)
    close(norcal.softmax_shift, torch.tensor([-0.5 * math.log(10), -0.5 * math.log(1000), 0.0]))
    # the frequency term is a per-class logit shift: softmax(z + s) by hand for one RoI
    z = torch.tensor([[0.5, 1.0, 0.2]])
    e = [math.exp(0.5 + w0), math.exp(1.0 + w1 - 2 * math.log(2)), math.exp(0.2)]
    close(calib(z), torch.tensor([[v / sum(e) for v in e]]))


def test_background_is_kept_and_renormalised():
    z = logits(seed=2)
    # shift 0 (C n_c / N = 1 for every class, D = 1): FRACAL is the plain softmax, bit for bit
    neutral = dict(num_images=30, image_count=[10, 10, 10], instance_count=[10, 10, 10])
    calib = FRACALCalibration(3, neutral, fractal_dims=dict(fractal_dimension=[1, 1, 1], num_images=30,
                                                            image_count=[10, 10, 10], instance_count=[10, 10, 10]))
    assert torch.equal(calib(z), torch.softmax(z, dim=-1))
    assert torch.equal(FRACALCalibration(3, stats(), mode='norcal', gamma=0.0)(z), torch.softmax(z, dim=-1))
    # otherwise only the classes move against the background: p_bg / p_c = exp(z_bg - z_c - s_c), rows sum to 1
    for calib in (MODELS.build(fracal_cfg()), MODELS.build(norcal_cfg(0.7))):
        p = calib(z).double()
        s = calib.softmax_shift.double()
        assert s[-1] == 0
        close(p[:, 3:] / p[:, :3], torch.exp(z[:, 3:].double() - z[:, :3].double() - s[:3]), rtol=1e-5)
        close(p.sum(dim=1), torch.ones(len(z)))
    # a rare class (n = 1, D = 1) gains against the background and a frequent one (n = 50, D = 1.8) loses
    p, q = MODELS.build(fracal_cfg())(z), torch.softmax(z, dim=-1)
    assert ((p[:, 2] / p[:, 3]) > (q[:, 2] / q[:, 3])).all() and ((p[:, 0] / p[:, 3]) < (q[:, 0] / q[:, 3])).all()


def test_half_precision_logits_give_float32_scores():
    calib = MODELS.build(fracal_cfg())
    z = logits(seed=3)
    scores = calib(z.half())
    assert scores.dtype == torch.float32
    close(scores, official_fracal_softmax(z.half().float()), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('loss', ['EqualizationLoss', 'GumbelLoss', 'SigmoidCELoss'])
def test_fracal_sigmoid_losses_vs_official(loss):
    """C logits (EQL v1, GOL): the official formula as written; C+1 logits (SigmoidCE's objectness): the same with
    the shift padded by 0."""
    cfg = dict(type=loss, num_classes=3)
    if loss in ('EqualizationLoss', 'GumbelLoss'):
        cfg.update(class_stats=stats())
    loss_cls = MODELS.build(cfg)
    width = loss_cls.get_cls_channels(3)
    z = logits(width=width, seed=4, scale=2.0)
    want = official_fracal_sigmoid(z, loss_cls.get_activation, pad=width - 3)
    close(MODELS.build(fracal_cfg())(z, loss_cls), want, rtol=1e-5, atol=1e-8)


def test_softmax_type_activation_is_calibrated_on_its_probabilities():
    seesaw = MODELS.build(dict(type='SeesawLoss', num_classes=3))
    calib = MODELS.build(fracal_cfg())
    z = logits(width=5, seed=5)
    q = seesaw.get_activation(z).double()
    weighted = q * torch.exp(calib.softmax_shift.double())
    close(calib(z, seesaw), weighted / weighted.sum(dim=1, keepdim=True), rtol=1e-5)

    class Softmax(torch.nn.Module):  # a custom activation that is the plain softmax: the softmax formula
        def get_activation(self, cls_score):
            return torch.softmax(cls_score, dim=-1)

    z = logits(seed=6)
    close(calib(z, Softmax()), official_fracal_softmax(z), rtol=1e-5, atol=1e-8)


def test_calibration_errors_name_the_value(tmp_path):
    with pytest.raises(ValueError, match="mode must be one of.*'platt'"):
        MODELS.build(fracal_cfg(mode='platt'))
    with pytest.raises(ValueError, match='needs fractal_dims'):
        MODELS.build(fracal_cfg(fractal_dims=None))
    with pytest.raises(ValueError, match="gamma=0.5 is NorCal's"):
        MODELS.build(fracal_cfg(gamma=0.5))
    with pytest.raises(ValueError, match='needs gamma'):
        MODELS.build(norcal_cfg(None))
    with pytest.raises(ValueError, match="fractal_dims is FRACAL's"):
        MODELS.build(norcal_cfg(fractal_dims=fractal()))
    with pytest.raises(ValueError, match='class index 2 .*no training image'):
        MODELS.build(norcal_cfg(class_stats=stats([50, 5, 0])))
    with pytest.raises(ValueError, match='has 4 classes but num_classes=3'):
        MODELS.build(norcal_cfg(class_stats=stats([1, 2, 3, 4], [1, 2, 3, 4])))
    missing = tmp_path / 'lvis_v1_train_fractal_dim.json'
    with pytest.raises(FileNotFoundError, match=f"'{missing}' does not exist.*tools/analysis/fractal_dimension.py"):
        MODELS.build(fracal_cfg(fractal_dims=str(missing)))
    wrong = tmp_path / 'four.json'
    wrong.write_text(json.dumps(fractal([1.5] * 4, image_count=[1] * 4, instance_count=[1] * 4)))
    with pytest.raises(ValueError, match=f'{wrong} has 4 classes but num_classes=3'):
        MODELS.build(fracal_cfg(fractal_dims=str(wrong)))
    other = tmp_path / 'other.json'
    other.write_text(json.dumps(fractal(instance_count=[120, 9, 3])))
    with pytest.raises(ValueError, match=f'{other} was computed from other annotations.*class index 2 has '
                                         'instance_count 3 there and 2 here'):
        MODELS.build(fracal_cfg(fractal_dims=str(other)))
    with pytest.raises(ValueError, match='class index 1 has dimension 0.0'):
        MODELS.build(fracal_cfg(fractal_dims=fractal([1.5, 0.0, 1.0])))
    with pytest.raises(ValueError, match=r"missing field\(s\) \['image_count'\]"):
        MODELS.build(fracal_cfg(fractal_dims=dict(fractal_dimension=DIMS, num_images=64, instance_count=[1] * 3)))
    calib = MODELS.build(fracal_cfg())
    with pytest.raises(ValueError, match='expects 4 softmax scores per RoI, got 5'):
        calib(logits(width=5))
    with pytest.raises(ValueError, match='NorCal is defined on softmax scores; SigmoidCELoss'):
        MODELS.build(norcal_cfg())(logits(), MODELS.build(dict(type='SigmoidCELoss', num_classes=3)))


def test_statistics_are_not_in_checkpoints():
    calib = MODELS.build(fracal_cfg())
    assert calib.state_dict() == {} and set(dict(calib.named_buffers())) == {'softmax_shift', 'sigmoid_shift'}
    assert "mode='fracal', num_classes=3, fractal_l=2.0" in repr(calib)


# ---------------------------------------------------------------------------------------------------------------
# the bbox head: predict path with and without calibration
# ---------------------------------------------------------------------------------------------------------------
HEAD = dict(in_channels=4, roi_feat_size=2, fc_out_channels=8, num_classes=3)


def build_head(calibration=None, loss_cls=None, base_type=None, **kwargs):
    cfg = dict(type='CalibratedBBoxHead', calibration=calibration, **HEAD, **kwargs)
    if base_type is not None:
        cfg['base_type'] = base_type
    if loss_cls is not None:
        cfg['loss_cls'] = loss_cls
    return MODELS.build(cfg)


def predict(head, feats, rois, rcnn_test_cfg=None, rescale=False):
    cls_score, bbox_pred = head(feats)
    meta = dict(img_shape=(32, 32), scale_factor=(2.0, 0.5))
    result = head.predict_by_feat((rois,), (cls_score,), (bbox_pred,), [meta], rcnn_test_cfg=rcnn_test_cfg,
                                  rescale=rescale)[0]
    return cls_score, result


NMS = ConfigDict(score_thr=0.01, max_per_img=20, nms=dict(type='nms', iou_threshold=0.3))


def test_head_class_keeps_the_base_and_its_checkpoints():
    plain = MODELS.build(dict(type='Shared2FCBBoxHead', **HEAD))
    calibrated = build_head(fracal_cfg())
    assert type(calibrated).__name__ == 'CalibratedShared2FCBBoxHead' and isinstance(calibrated, type(plain))
    assert calibrated.calibration.num_classes == 3
    # the same parameters and state-dict keys: either checkpoint loads strictly into the other
    calibrated.load_state_dict(plain.state_dict(), strict=True)
    plain.load_state_dict(calibrated.state_dict(), strict=True)
    assert build_head(norcal_cfg()).__class__ is type(calibrated)  # one class per base
    rog = build_head(norcal_cfg(), base_type='ROGShared2FCBBoxHead')
    assert type(rog).__name__ == 'CalibratedROGShared2FCBBoxHead' and hasattr(rog, 'loss_rank')


@pytest.mark.parametrize('rescale', [False, True])
def test_predict_path_with_and_without_calibration(rescale):
    torch.manual_seed(0)
    plain = MODELS.build(dict(type='Shared2FCBBoxHead', **HEAD)).eval()
    off = build_head(None).eval()
    identity = build_head(norcal_cfg(0.0)).eval()  # calibrated, shift 0: our tail of the method against mmdet's
    fracal = build_head(fracal_cfg()).eval()
    for head in (off, identity, fracal):
        head.load_state_dict(plain.state_dict())
    feats, rois = head_inputs(8, num_rois=12)
    with torch.no_grad():
        cls_score, raw = predict(plain, feats, rois, rescale=rescale)
        _, plain_nms = predict(plain, feats, rois, NMS, rescale)
        for head in (off, identity):
            _, mine = predict(head, feats, rois, rescale=rescale)
            assert torch.equal(mine.scores, raw.scores) and torch.equal(mine.bboxes, raw.bboxes)
            _, mine = predict(head, feats, rois, NMS, rescale)
            for key in ('bboxes', 'scores', 'labels'):
                assert torch.equal(getattr(mine, key), getattr(plain_nms, key)), key
        # FRACAL: the official scores, the same boxes; through NMS, mmdet's multiclass_nms on those scores
        _, mine = predict(fracal, feats, rois, rescale=rescale)
        want = official_fracal_softmax(cls_score)
        close(mine.scores, want, rtol=1e-5, atol=1e-8)
        assert torch.equal(mine.bboxes, raw.bboxes)
        assert not torch.allclose(mine.scores, raw.scores, atol=1e-3)
        det_bboxes, det_labels = multiclass_nms(raw.bboxes, mine.scores, NMS.score_thr, NMS.nms, NMS.max_per_img)
        _, mine = predict(fracal, feats, rois, NMS, rescale)
    assert torch.equal(mine.bboxes, det_bboxes[:, :-1]) and torch.equal(mine.scores, det_bboxes[:, -1])
    assert torch.equal(mine.labels, det_labels) and (mine.labels < 3).all()  # the background column is dropped


@pytest.mark.parametrize('loss', ['SigmoidCELoss', 'GumbelLoss'])
def test_predict_path_of_a_sigmoid_loss_uses_its_activation(loss):
    loss_cls = dict(type=loss, num_classes=3, **(dict(class_stats=stats()) if loss == 'GumbelLoss' else {}))
    head = build_head(fracal_cfg(), loss_cls=loss_cls).eval()
    feats, rois = head_inputs(9)
    with torch.no_grad():
        cls_score, result = predict(head, feats, rois)
    width = head.loss_cls.get_cls_channels(3)  # GOL: C logits; SigmoidCE: C+1 (objectness)
    assert cls_score.size(1) == width and result.scores.size(1) == 4
    close(result.scores, official_fracal_sigmoid(cls_score, head.loss_cls.get_activation, pad=width - 3), rtol=1e-5,
          atol=1e-8)
    with pytest.raises(ValueError, match='NorCal is defined on softmax scores'), torch.no_grad():
        predict(build_head(norcal_cfg(), loss_cls=loss_cls).eval(), feats, rois)


def test_training_is_unchanged():
    plain = MODELS.build(dict(type='Shared2FCBBoxHead', **HEAD))
    head = build_head(fracal_cfg())
    head.load_state_dict(plain.state_dict())
    feats, _ = head_inputs(3)
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    losses = [h.loss(*h(feats), **head_loss_inputs(6, labels)) for h in (plain, head)]
    assert losses[0].keys() == losses[1].keys()
    for key in losses[0]:
        assert torch.equal(losses[0][key], losses[1][key]), key


def test_head_errors_name_the_value():
    with pytest.raises(ValueError, match='calibration.num_classes=4 but the head has num_classes=3'):
        build_head(fracal_cfg(num_classes=4))
    with pytest.raises(TypeError, match='must name an mmdet BBoxHead class'):
        build_head(None, base_type='FCNMaskHead')
    with pytest.raises(ValueError, match='SABLHead computes its test scores in its own _predict_by_feat_single'):
        build_head(None, base_type='SABLHead')
    with pytest.raises(KeyError, match="base_type 'NoSuchHead' is not registered"):
        build_head(None, base_type='NoSuchHead')


# ---------------------------------------------------------------------------------------------------------------
# the fractal dimension
# ---------------------------------------------------------------------------------------------------------------
def annotation_file(boxes_per_class: Dict[str, List[tuple]], width: float = 200.0, height: float = 100.0,
                    extra_images: int = 1) -> dict:
    """An LVIS-style dict with one image per box (W x H) and ``extra_images`` images without boxes; boxes are given
    by their normalised centres (cx, cy) and get a 4 x 2 pixel size."""
    images, anns = [], []
    for cat_id, (name, centres) in enumerate(boxes_per_class.items(), 1):
        for cx, cy in centres:
            image_id = len(images) + 1
            images.append(dict(id=image_id, width=width, height=height))
            anns.append(dict(id=len(anns) + 1, image_id=image_id, category_id=cat_id,
                             bbox=[cx * width - 2.0, cy * height - 1.0, 4.0, 2.0]))
    images += [dict(id=len(images) + k + 1, width=width, height=height) for k in range(extra_images)]
    cats = [dict(id=i, name=name) for i, name in enumerate(boxes_per_class, 1)]
    return dict(images=images, annotations=anns, categories=cats[::-1])  # categories in any order


GRID4 = [((i + 0.5) / 4, (j + 0.5) / 4) for i in range(4) for j in range(4)]
HAND = {
    'grid': GRID4,  # N(d) = d^2 for d = 1..4: D = 2
    'diagonal': [((i + 0.5) / 16, (i + 0.5) / 16) for i in range(16)],  # N(d) = d: D = 1
    'point': [(0.3, 0.6)] * 16,  # N(d) = 1: slope 0 -> D = 1
    'three': [(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)],  # fewer than 4 boxes: D = 1
    'corners': [(0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9)] * 2 + [(0.9, 0.9)],  # 9 boxes: N = 1, 4, 4
}


def test_fractal_dimension_by_hand():
    result = compute_fractal_dimensions(annotation_file(HAND))
    assert result.classes == tuple(HAND) and result.num_images == 16 + 16 + 16 + 3 + 9 + 1
    x, y = [0.0, math.log(2), math.log(3)], [0.0, math.log(4), math.log(4)]
    mx, my = sum(x) / 3, sum(y) / 3
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)  # 1.3414
    np.testing.assert_allclose(result.fractal_dimension, [2.0, 1.0, 1.0, 1.0, slope], rtol=1e-12)
    assert list(result.instance_count) == [16, 16, 16, 3, 9] and list(result.image_count) == [16, 16, 16, 3, 9]


def official_fractality(cx: np.ndarray, cy: np.ndarray, categories: np.ndarray, num_classes: int,
                        dims: int) -> List[float]:
    """calculate_fractality.py with variant 'box_dim': a mask per cell (l.49-66), curve_fit per class (l.86-101)."""
    from scipy import optimize

    def calculate_fract(dim):
        step = 1 / dim
        gt_loc_bias = np.zeros((dim, dim, num_classes))
        for j in range(dim):
            for i in range(dim):
                dimx = [i * step, (i + 1) * step]
                maskx = (cx >= dimx[0]) & (cx < dimx[1])
                dimy = [j * step, (j + 1) * step]
                masky = (cy >= dimy[0]) & (cy < dimy[1])
                gt_loc_bias[j, i, :] = np.bincount(categories[maskx & masky], minlength=num_classes)
        return (gt_loc_bias > 0).sum(axis=0).sum(axis=0)

    grid = np.arange(dims) + 1
    boxes = [calculate_fract(d) for d in grid]
    frequencies = np.bincount(categories, minlength=num_classes)
    fractality = []
    for k in range(num_classes):
        n = [boxes[i][k] for i in np.arange(dims)]
        cut = frequencies[k] >= grid * grid
        if frequencies[k] < 4:
            fractality.append(1)
        else:
            popt, _ = optimize.curve_fit(lambda x, a, df: df * x + a, np.log(grid)[cut], np.log(n)[cut],
                                         maxfev=100000)
            fractality.append(1 if popt[1] < 1 else popt[1])
    return fractality


def test_fractal_dimension_vs_official():
    rng = np.random.default_rng(0)
    counts = [3, 4, 20, 70, 150]
    labels = np.repeat(np.arange(5), counts)
    cx = rng.random(labels.size)
    cy = np.where(labels == 3, rng.random(labels.size) * 0.3, rng.random(labels.size))  # a band: lower D
    cx[:12] = [0.6, 0.2, 1 / 3, 2 / 3, 0.8, 0.4, 0.0, 1.0, 0.5, 0.25, 0.75, 0.1]  # on official cell edges (x and y)
    cy[20:30] = cx[:10]
    cx[-1], cy[-2] = 1.2, -0.1  # outside the image: in no cell
    ours = fractal_dimensions(labels, cx, cy, 5, max_grid=8)
    np.testing.assert_allclose(ours, official_fractality(cx, cy, labels, 5, 8), rtol=1e-6)
    assert ours[0] == 1.0 and 1.0 < ours[3] < ours[4] <= 2.0  # fewer than 4 boxes; a band; spread over the image


def test_cells_use_the_official_edges():
    # 3 * (1 / 5) = 0.6000000000000001 > 0.6: the official mask puts 0.6 in cell 2 of 5 (floor(0.6 * 5) = 3)
    labels = np.zeros(3, dtype=np.int64)
    assert occupied_cells(labels, np.array([0.6, 0.5, 0.59]), np.array([0.1, 0.1, 0.1]), 1, 5)[0] == 1
    assert occupied_cells(labels, np.array([1.0, -0.01, 0.5]), np.array([0.5, 0.5, 1.0]), 1, 5)[0] == 0


def test_fractal_dimension_errors_name_the_value(tmp_path):
    data = annotation_file(HAND)
    data['categories'].append(dict(id=99, name='unseen'))
    with pytest.raises(ValueError, match=r'class index 5 \(unseen\) has no box'):
        compute_fractal_dimensions(data)
    assert compute_fractal_dimensions(data, allow_empty=True).fractal_dimension[5] == 1.0
    bad = copy.deepcopy(data)
    bad['annotations'][3]['category_id'] = 42
    with pytest.raises(ValueError, match='annotation 4 has unknown category_id 42'):
        compute_fractal_dimensions(bad)
    bad = copy.deepcopy(data)
    bad['annotations'][0]['image_id'] = 777
    with pytest.raises(ValueError, match='annotation 1 refers to unknown image_id 777'):
        compute_fractal_dimensions(bad)
    bad = copy.deepcopy(data)
    bad['images'][0]['width'] = 0
    with pytest.raises(ValueError, match='image 1 needs a positive "width" and "height"'):
        compute_fractal_dimensions(bad)
    bad = copy.deepcopy(data)
    bad['annotations'][2]['bbox'] = [1, 2]
    with pytest.raises(ValueError, match=r'annotation 3 has no \[x, y, w, h\] "bbox"'):
        compute_fractal_dimensions(bad)
    with pytest.raises(ValueError, match='has no "annotations" field'):
        compute_fractal_dimensions(dict(images=[], categories=[]))
    missing = tmp_path / 'nope.json'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        compute_fractal_dimensions(missing)
    with pytest.raises(ValueError, match='max_grid must be >= 2'):
        compute_fractal_dimensions(annotation_file(HAND), max_grid=1)


def test_fractal_file_round_trip(tmp_path):
    result = compute_fractal_dimensions(annotation_file(HAND))
    path = result.save(tmp_path / 'out' / 'dims.json')
    loaded = load_fractal_dimensions(path, num_classes=5)
    np.testing.assert_array_equal(loaded.fractal_dimension, result.fractal_dimension)
    assert loaded.num_images == result.num_images and loaded.classes == result.classes
    assert isinstance(load_fractal_dimensions(loaded), FractalDimensions)


def test_tool_writes_the_file_the_calibration_reads(tmp_path):
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps(annotation_file(HAND)))
    out = tmp_path / 'train_fractal_dim.json'
    printed = run(tool('analysis/fractal_dimension.py', str(ann), '-o', str(out)), tmp_path).stdout
    assert '5 classes, 60 boxes, 61 images' in printed and f'written to {out}' in printed
    written = json.loads(out.read_text())
    assert written['num_images'] == 61 and written['max_grid'] == 64 and written['classes'] == list(HAND)
    # class_stats of the same file and the fractal file agree: the calibration builds from both paths
    calib = FRACALCalibration(5, str(ann), fractal_dims=str(out))
    n = np.array([16, 16, 16, 3, 9], dtype=np.float64)
    want = -np.log10(5 * n / 61) - 2 * np.log(np.array(written['fractal_dimension']))
    close(calib.softmax_shift[:5], torch.from_numpy(want), rtol=1e-6)


@pytest.mark.parametrize('case', ['missing', 'unknown_category', 'empty_class'])
def test_tool_errors(tmp_path, case):
    data = annotation_file(HAND)
    ann = tmp_path / 'train.json'
    if case == 'unknown_category':
        data['annotations'][0]['category_id'] = 42
    if case == 'empty_class':
        data['categories'].append(dict(id=99, name='unseen'))
    if case != 'missing':
        ann.write_text(json.dumps(data))
    out = tmp_path / 'dims.json'
    cmd = [sys.executable, str(REPO / 'tools/analysis/fractal_dimension.py'), str(ann), '-o', str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 1 and not out.exists()
    expected = {'missing': f"no such file '{ann}'", 'unknown_category': 'unknown category_id 42',
                'empty_class': r'class index 5 (unseen) has no box'}[case]
    assert expected in proc.stderr
    if case == 'empty_class':
        proc = subprocess.run(cmd + ['--allow-empty'], capture_output=True, text=True)
        assert proc.returncode == 0 and json.loads(out.read_text())['fractal_dimension'][5] == 1.0


# ---------------------------------------------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------------------------------------------
FOLDERS = ('fracal', 'norcal')
LVIS_CONFIGS = sorted(p for f in FOLDERS for p in (REPO / 'configs' / f).glob('mask-rcnn_r*_lvis-*.py'))
DEMO_CONFIGS = sorted(p for f in FOLDERS for p in (REPO / 'configs' / f).glob('*_lt-shapes.py'))
NAME = re.compile(r'mask-rcnn_r(50|101)_fpn_(fracal|norcal)_sample1e-3-ms-2x_lvis-(v1|v0\.5)\.py')


def base_of(path: Path) -> Path:
    """The config a calibration config tests: the softmax CE LVIS config, or the LT-Shapes demo."""
    if path in DEMO_CONFIGS:
        return Path(DET_CFG)
    return REPO / 'configs/lvis' / re.sub(r'_(fracal|norcal)_', '_ce_', path.name)


def test_every_folder_has_the_recipe_grid_and_a_demo():
    for folder in FOLDERS:
        names = {p.name for p in (REPO / 'configs' / folder).glob('*.py')}
        lvis = {n for n in names if NAME.fullmatch(n)}
        assert len(lvis) == 4 and {NAME.fullmatch(n).group(2) for n in lvis} == {folder}, folder
        assert names - lvis == {f'mask-rcnn_r18-tiny_fpn_{folder}_lt-shapes.py'}, folder


@pytest.mark.parametrize('path', LVIS_CONFIGS + DEMO_CONFIGS, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_config_is_its_base_with_calibrated_scores(path):
    """The config resolves to the model it tests (training, data and weights unchanged), with only the bbox head's
    type and calibration and, for FRACAL, its test settings (NMS IoU 0.3, mask threshold 0.4) changed."""
    cfg, base = Config.fromfile(str(path)).to_dict(), Config.fromfile(str(base_of(path))).to_dict()
    head, base_head = cfg['model']['roi_head']['bbox_head'], base['model']['roi_head']['bbox_head']
    assert head.pop('type') == 'CalibratedBBoxHead' and base_head.pop('type') == 'Shared2FCBBoxHead'
    calibration = head.pop('calibration')
    rcnn, base_rcnn = cfg['model']['test_cfg']['rcnn'], base['model']['test_cfg']['rcnn']
    if path.parent.name == 'fracal':  # kostas1515/FRACAL fracal_r50_..._carafe.py test_cfg
        assert rcnn.pop('nms') == dict(type='nms', iou_threshold=0.3) and rcnn.pop('mask_thr_binary') == 0.4
        base_rcnn.pop('nms'), base_rcnn.pop('mask_thr_binary')
    for key in ('filename', 'text', 'pretty_text'):
        cfg.pop(key, None), base.pop(key, None)
    assert cfg == base
    version = NAME.fullmatch(path.name).group(3) if path in LVIS_CONFIGS else None
    stats_file = (f'data/lvis_{version}/annotations/lvis_{version}_train_class_stats.json' if version else
                  'data/lt_shapes/annotations/lt_shapes_train.json')
    expected = dict(type='FRACALCalibration', mode=path.parent.name, class_stats=stats_file)
    if path.parent.name == 'fracal':
        expected.update(fractal_l=2.0, fractal_dims=(f'data/lvis_{version}/annotations/lvis_{version}_train_'
                                                     'fractal_dim.json' if version else
                                                     'data/lt_shapes/annotations/lt_shapes_train_fractal_dim.json'))
    else:
        expected.update(gamma=0.4343)
    assert calibration == expected
    if version:
        assert base['model']['roi_head']['bbox_head']['num_classes'] == (1203 if version == 'v1' else 1230)


def lvis_fractal(num_classes: int) -> dict:
    counts = [1 + i % 300 for i in range(num_classes)]
    dims = [1.0 + (i % 11) / 10 for i in range(num_classes)]
    return dict(num_images=100170, image_count=counts, instance_count=[3 * c for c in counts],
                fractal_dimension=dims)


@pytest.mark.slow
@pytest.mark.parametrize('folder', FOLDERS)
def test_lvis_config_predicts_on_cpu(folder):
    """The R50 LVIS v1 config of each family (1,203 classes, its calibration and test settings, made-up statistics)
    builds, initialises (without the ImageNet weights) and predicts an image on CPU."""
    from mmdet.testing import demo_mm_inputs
    from mmengine.registry import DefaultScope

    cfg = Config.fromfile(str(REPO / f'configs/{folder}/mask-rcnn_r50_fpn_{folder}_sample1e-3-ms-2x_lvis-v1.py'))
    cfg.model.backbone.init_cfg = None
    calibration = cfg.model.roi_head.bbox_head.calibration
    stats_1203 = lvis_fractal(1203)
    calibration.class_stats = {k: v for k, v in stats_1203.items() if k != 'fractal_dimension'}
    calibration.class_stats['num_images'] = 99388
    if folder == 'fracal':
        calibration.fractal_dims = stats_1203
    cfg.model.test_cfg.rpn.max_per_img = 10  # x 1,203 classes into NMS
    cfg.model.test_cfg.rcnn.max_per_img = 20
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        assert type(model.roi_head.bbox_head).__name__ == 'CalibratedShared2FCBBoxHead'
        packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)], num_items=[3], num_classes=1203,
                                with_mask=True)
        model.eval()
        with torch.no_grad():
            result = model(**model.data_preprocessor(packed, False), mode='predict')[0]
    scores = result.pred_instances.scores
    assert 0 < scores.numel() <= 20 and (scores >= 1e-4).all() and (scores <= 1).all()
    assert result.pred_instances.masks.shape[0] == scores.numel()


@pytest.mark.slow
def test_lt_shapes_demo_trains_and_tests_calibrated(det_workspace: Path, tmp_path: Path):
    """The FRACAL demo trains two iterations through tools/train.py (the demo detector, unchanged); its checkpoint is
    tested with the FRACAL, NorCal and plain demo configs: each reports LVIS AP, and the calibrations change the
    scores of the same detections."""
    fractal_file = det_workspace / 'data/lt_shapes/annotations/lt_shapes_train_fractal_dim.json'
    run(tool('analysis/fractal_dimension.py', 'data/lt_shapes/annotations/lt_shapes_train.json', '-o',
             str(fractal_file)), det_workspace)
    work = tmp_path / 'work'
    fracal_demo = str(REPO / 'configs/fracal/mask-rcnn_r18-tiny_fpn_fracal_lt-shapes.py')
    run(tool('train.py', fracal_demo, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None'),
        det_workspace)
    checkpoint = str(work / 'epoch_1.pth')
    preds = {}
    for name, config in (('plain', DET_CFG), ('fracal', fracal_demo),
                         ('norcal', str(REPO / 'configs/norcal/mask-rcnn_r18-tiny_fpn_norcal_lt-shapes.py'))):
        out = run(tool('test.py', config, checkpoint, '--work-dir', str(tmp_path / name), '--out',
                       str(tmp_path / f'{name}.pkl'), '--cfg-options', 'test_dataloader.num_workers=0',
                       'test_dataloader.persistent_workers=False', 'test_dataloader.dataset.indices=4'),
                  det_workspace).stdout
        for key in ('bbox_AP', 'bbox_APr', 'segm_AP', 'segm_APr'):
            assert re.search(rf'lvis/{key}: -?\d', out), (name, key)
        with open(tmp_path / f'{name}.pkl', 'rb') as f:
            preds[name] = pickle.load(f)
    for name in ('fracal', 'norcal'):
        assert len(preds[name]) == len(preds['plain']) == 4
        plain = torch.cat([p['pred_instances']['scores'] for p in preds['plain']])
        calibrated = torch.cat([p['pred_instances']['scores'] for p in preds[name]])
        assert calibrated.numel() and not (calibrated.numel() == plain.numel() and torch.allclose(calibrated, plain))


def test_an_mmdet_config_is_calibrated_by_a_child_config(tmp_path):
    """The README's overlay on mmdet's own Seesaw LVIS config (C+2 logits, a softmax-type activation): the bbox head
    builds with mmdet's arguments and scores RoIs with the calibrated Seesaw probabilities."""
    from mmengine.registry import DefaultScope

    child = tmp_path / 'seesaw_fracal.py'
    child.write_text(
        "_base_ = 'mmdet::seesaw_loss/mask-rcnn_r50_fpn_seesaw-loss-normed-mask_sample1e-3-ms-2x_lvis-v1.py'\n"
        "custom_imports = dict(imports=['ltmm.det'], allow_failed_imports=False)\n"
        "model = dict(roi_head=dict(bbox_head=dict(type='CalibratedBBoxHead', calibration=dict(\n"
        "    type='FRACALCalibration', class_stats='stats.json', fractal_dims='dims.json'))),\n"
        "    test_cfg=dict(rcnn=dict(nms=dict(iou_threshold=0.3), mask_thr_binary=0.4)))\n")
    cfg = Config.fromfile(str(child))
    head_cfg = cfg.model.roi_head.bbox_head
    assert head_cfg.loss_cls.type == 'SeesawLoss' and head_cfg.cls_predictor_cfg.type == 'NormedLinear'
    made_up = lvis_fractal(1203)
    head_cfg.calibration.class_stats = {k: v for k, v in made_up.items() if k != 'fractal_dimension'}
    head_cfg.calibration.fractal_dims = made_up
    with DefaultScope.overwrite_default_scope('mmdet'):
        head = MODELS.build(head_cfg).eval()
    assert type(head).__name__ == 'CalibratedShared2FCBBoxHead' and head.fc_cls.out_features == 1205
    feats = torch.randn(5, 256, 7, 7, generator=torch.Generator().manual_seed(0))
    rois = torch.tensor([[0, 10.0, 10, 60, 80]] * 5)
    with torch.no_grad():
        cls_score, bbox_pred = head(feats)
        result = head.predict_by_feat((rois,), (cls_score,), (bbox_pred,), [dict(img_shape=(100, 100))])[0]
        q = head.loss_cls.get_activation(cls_score).double()
    weighted = q * torch.exp(head.calibration.softmax_shift.double())
    close(result.scores, weighted / weighted.sum(dim=1, keepdim=True), rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_cascade_rcnn_calibrates_its_last_stage(monkeypatch, tmp_path):
    """A Cascade R-CNN with its last stage's bbox head calibrated: the calibration scores the logits averaged over the
    three stages, the earlier stages keep theirs, and the detections differ from the un-calibrated model's."""
    from mmdet.testing import demo_mm_inputs
    from mmengine.registry import DefaultScope

    child = tmp_path / 'cascade.py'
    child.write_text("_base_ = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'\n")
    cfg = Config.fromfile(str(child))
    cfg.model.backbone.init_cfg = None
    cfg.model.test_cfg.rpn.max_per_img = 20
    counts = [1 + 7 * i for i in range(80)]
    calibrated = copy.deepcopy(cfg.model)
    calibrated.roi_head.bbox_head[2].type = 'CalibratedBBoxHead'
    calibrated.roi_head.bbox_head[2].calibration = dict(
        type='FRACALCalibration', mode='norcal', gamma=0.5,
        class_stats=dict(num_images=600, image_count=counts, instance_count=counts))
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)], num_items=[3], num_classes=80, with_mask=True)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        plain_model = MODELS.build(cfg.model).eval()
        model = MODELS.build(calibrated).eval()
    model.load_state_dict(plain_model.state_dict(), strict=True)
    heads = model.roi_head.bbox_head
    assert [type(h).__name__ for h in heads] == ['Shared2FCBBoxHead'] * 2 + ['CalibratedShared2FCBBoxHead']
    seen, stage_logits = [], []
    forward = type(heads[2].calibration).forward
    monkeypatch.setattr(type(heads[2].calibration), 'forward',
                        lambda self, z, loss=None: seen.append(z) or forward(self, z, loss))
    for head in heads:
        head.register_forward_hook(lambda m, i, out: stage_logits.append(out[0]))
    with torch.no_grad():
        data = model.data_preprocessor(packed, False)
        result = model(**data, mode='predict')[0]
        plain = plain_model(**plain_model.data_preprocessor(packed, False), mode='predict')[0]
    assert len(seen) == 1 and len(stage_logits) == 3
    close(seen[0], sum(stage_logits) / 3, rtol=1e-5, atol=1e-6)
    assert not torch.equal(result.pred_instances.scores, plain.pred_instances.scores)
