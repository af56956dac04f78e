"""ECM (``ECMLoss``): the module against a naive transcription of the official ``EffectiveClassMarginLoss``
(janghyuncho/ECM-Loss mmdet/models/losses/effective_class_margin_loss.py and ecm_utils.py: raw exponentials, value and
gradient), the margins and weights of LVIS v1-like counts (research note table), instance (not image) counts, the
background count, all-background and empty batches, fp16 / bf16 inputs under a loss scale, a checkpoint round trip
(no state), and the test-time scores through the bbox head's ``get_activation``."""
import json
import math
from typing import List, Sequence

import pytest
import torch
from mmdet.registry import MODELS

import ltmm.det  # noqa: F401  (registers the modules)
from ltmm.det.losses.ecm_loss import ecm_margins

from .loss_checks import check_bf16_autocast, check_loss_scaled_low_precision, close, loss_and_grad, ref_loss_and_grad
from .test_losses import build_head, head_inputs, head_loss_inputs, predict_scores

# instance counts differ from the image counts: ECM must read the instance counts
INSTANCES = [900, 40, 7, 1, 250]
IMAGES = [300, 20, 5, 1, 100]
RATIO = 6.3313


def stats(instances: Sequence[int] = INSTANCES, images: Sequence[int] = IMAGES) -> dict:
    return dict(num_images=400, image_count=list(images), instance_count=list(instances))


def ecm(**kwargs) -> torch.nn.Module:
    cfg = dict(type='ECMLoss', num_classes=len(INSTANCES), class_stats=stats())
    cfg.update(kwargs)
    return MODELS.build(cfg)


def official_ecm(cls_score: torch.Tensor, labels: Sequence[int], counts: Sequence[int],
                 fg_bg_ratio: float = RATIO) -> torch.Tensor:
    """``EffectiveClassMarginLoss.forward`` (l.43-69), ``compute_weight`` (l.93-103) and ``get_detection_weight``
    (ecm_utils.py) in float64, line by line."""
    n = torch.tensor(list(counts), dtype=torch.float64)
    n = torch.cat([n, n.sum()[None] * fg_bg_ratio])
    B = cls_score.shape[0]
    C = cls_score.shape[1] - 1
    target = cls_score.new_zeros(B, C + 1)
    target[torch.arange(B), torch.tensor(list(labels))] = 1
    n_pos = n
    n_neg = n.sum() - n
    pos_w = (n_neg.pow(1 / 4) / (n_pos.pow(1 / 4) + n_neg.pow(1 / 4))).pow(-1).log()
    neg_w = (n_pos.pow(1 / 4) / (n_pos.pow(1 / 4) + n_neg.pow(1 / 4))).pow(-1).log()
    pos_w = pos_w.view(1, -1).expand(B, C + 1)
    neg_w = neg_w.view(1, -1).expand(B, C + 1)
    score_exp_pos = (cls_score + pos_w).exp()
    score_exp_neg = (-cls_score + neg_w).exp()
    pred_pos = score_exp_pos / (score_exp_pos + score_exp_neg)
    pred_neg = score_exp_neg / (score_exp_pos + score_exp_neg)
    loss_cls = -(pred_pos.log() * target + pred_neg.log() * (1 - target))
    a = (n.sum() - n) / n
    cls_weight = (a * ((1 + a) / a).log())[None]
    return (loss_cls * cls_weight).sum() / B


BG = len(INSTANCES)


@pytest.mark.parametrize('scale', [0.3, 3.0, 20.0])
@pytest.mark.parametrize('labels', [[0, 1, 5, 5, 2, 3, 5, 4, 0, 5], [5, 5, 5, 5], [3, 3, 1]],
                         ids=['mixed', 'background_only', 'foreground_only'])
def test_value_and_gradient_vs_official(labels: List[int], scale: float):
    gen = torch.Generator().manual_seed(int(scale * 10) + len(labels))
    z = torch.randn(len(labels), BG + 1, generator=gen) * scale  # NormedLinear(tau=20) keeps |s| around <= 20
    loss, grad = loss_and_grad(ecm(), z, torch.tensor(labels))
    ref_loss, ref_grad = ref_loss_and_grad(official_ecm, z, labels, INSTANCES)
    close(loss, ref_loss, rtol=1e-5)
    close(grad, ref_grad, rtol=1e-5, atol=1e-7)
    # loss_weight scales value and gradient
    loss2, grad2 = loss_and_grad(ecm(loss_weight=2.5), z, torch.tensor(labels))
    close(loss2, 2.5 * loss)
    close(grad2, 2.5 * grad)


def test_effective_probability_is_a_shifted_sigmoid():
    """The official ratio of exponentials is sigmoid(2 s + ln(n / n_neg) / 4), the offset pos_w - neg_w."""
    offset, _ = ecm_margins(torch.tensor(INSTANCES), RATIO)
    n = torch.tensor(INSTANCES + [sum(INSTANCES) * RATIO], dtype=torch.float64)
    n_neg = n.sum() - n
    pos_w = torch.log((n ** 0.25 + n_neg ** 0.25) / n_neg ** 0.25)
    neg_w = torch.log((n ** 0.25 + n_neg ** 0.25) / n ** 0.25)
    close(offset, pos_w - neg_w, rtol=1e-12)
    s = torch.linspace(-5, 5, 11, dtype=torch.float64).unsqueeze(1)
    official = torch.exp(s + pos_w) / (torch.exp(s + pos_w) + torch.exp(-s + neg_w))
    close(torch.sigmoid(2 * s + offset), official, rtol=1e-12)


def lvis_like_counts() -> List[int]:
    """Classes of 1, 10, 100, 1,000, 10,000 and 50,552 instances (banana, the largest LVIS v1 class) plus one that
    brings the sum to LVIS v1's 1,270,141 instances."""
    counts = [1, 10, 100, 1000, 10000, 50552]
    return counts + [1270141 - sum(counts)]


def test_margins_and_weights_of_lvis_v1_counts():
    """The research note's table (detection_sota.md section 4): instance count -> offset, pos_w, neg_w, weight."""
    offset, weight = ecm_margins(torch.tensor(lvis_like_counts()), RATIO)
    n_bg = 1270141 * RATIO
    assert n_bg == pytest.approx(8_041_643.7, abs=1)
    table = [(-4.01, 1.000), (-3.44, 1.000), (-2.86, 1.000), (-2.28, 1.000), (-1.71, 0.9995), (-1.30, 0.997)]
    for (want_offset, want_weight), got_offset, got_weight in zip(table, offset[:6], weight[:6]):
        assert got_offset.item() == pytest.approx(want_offset, abs=0.005)
        assert got_weight.item() == pytest.approx(want_weight, abs=0.0005)
    assert offset[-1].item() == pytest.approx(0.46, abs=0.005)   # background
    assert weight[-1].item() == pytest.approx(0.315, abs=0.0005)
    # exact: offset = ln(n / (S - n)) / 4, w = a ln(1 + 1/a), a = (S - n) / n
    total = 1270141 + n_bg
    assert offset[0].item() == pytest.approx(0.25 * math.log(1 / (total - 1)), rel=1e-12)
    a = (total - n_bg) / n_bg
    assert weight[-1].item() == pytest.approx(a * math.log((1 + a) / a), rel=1e-12)


def test_instance_counts_not_image_counts(tmp_path):
    module = ecm()
    offset, weight = ecm_margins(torch.tensor(INSTANCES), RATIO)
    close(module.offset, offset, rtol=1e-6)
    close(module.column_weight, weight, rtol=1e-6)
    by_images, _ = ecm_margins(torch.tensor(IMAGES), RATIO)
    assert not torch.allclose(module.offset.double(), by_images, atol=1e-3)
    # from an LVIS-style annotation file: 2 instances of category 1 in one image, 1 of category 2
    data = dict(images=[dict(id=1, file_name='1.jpg', height=8, width=8), dict(id=2, file_name='2.jpg', height=8,
                                                                               width=8)],
                annotations=[dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 2, 2], area=4),
                             dict(id=2, image_id=1, category_id=1, bbox=[4, 4, 2, 2], area=4),
                             dict(id=3, image_id=2, category_id=2, bbox=[0, 0, 2, 2], area=4)],
                categories=[dict(id=1, name='a', frequency='r'), dict(id=2, name='b', frequency='r')])
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps(data))
    from_file = MODELS.build(dict(type='ECMLoss', num_classes=2, class_stats=str(path)))
    close(from_file.offset, ecm_margins(torch.tensor([2, 1]), RATIO)[0], rtol=1e-6)


def test_background_count_follows_fg_bg_ratio():
    module = ecm(fg_bg_ratio=2.0)
    total = sum(INSTANCES) * 3.0
    assert module.offset[-1].item() == pytest.approx(0.25 * math.log(2.0 / 1.0), rel=1e-6)
    a = (total - INSTANCES[0]) / INSTANCES[0]
    assert module.column_weight[0].item() == pytest.approx(a * math.log1p(1 / a), rel=1e-6)


def test_background_only_batch():
    labels = torch.full((6,), BG)
    z = torch.randn(6, BG + 1, generator=torch.Generator().manual_seed(1)) * 4
    loss, grad = loss_and_grad(ecm(), z, labels)
    ref = ref_loss_and_grad(official_ecm, z, labels.tolist(), INSTANCES)
    close(loss, ref[0], rtol=1e-5)
    close(grad, ref[1], rtol=1e-5)
    assert (grad[:, :BG] > 0).all() and (grad[:, BG] < 0).all(), 'classes pushed down, background up'


def test_empty_batch():
    loss, grad = loss_and_grad(ecm(), torch.zeros(0, BG + 1), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0 and grad.shape == (0, BG + 1)


def test_large_logits_stay_finite():
    """The official raw exponentials overflow in float32 past |s| ~ 44; the shifted sigmoid does not."""
    z = torch.tensor([[60.0, -60.0, 0.0, 0.0, 0.0, -60.0], [-60.0, 60.0, 0.0, 0.0, 0.0, 60.0]])
    loss, grad = loss_and_grad(ecm(), z, torch.tensor([1, 0]))
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert loss.item() > 100  # both RoIs confidently wrong in their own class columns


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_inputs_under_a_loss_scale(dtype):
    gen = torch.Generator().manual_seed(5)
    num_rois, scale = 512, 2.0 ** 14
    labels = torch.randint(0, BG + 1, (num_rois,), generator=gen)
    z_low = (torch.randn(num_rois, BG + 1, generator=gen) * 8).to(dtype)
    check_loss_scaled_low_precision(ecm, z_low, labels, scale)


def test_bf16_autocast():
    check_bf16_autocast(ecm, BG + 1, torch.tensor([0, 1, 2, 5, 5, 4]))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='5 classes but num_classes=4'):
        ecm(num_classes=4)
    with pytest.raises(ValueError, match='class index 3'):
        ecm(class_stats=stats(INSTANCES[:3] + [0] + INSTANCES[4:], IMAGES[:3] + [0] + IMAGES[4:]))
    with pytest.raises(ValueError, match='class index 2 has no training instance'):
        ecm(class_stats=stats([900, 40, 0, 1, 250], IMAGES))  # inconsistent counts: no instance, some image
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match='fg_bg_ratio'):
            ecm(fg_bg_ratio=bad)
    module = ecm()
    with pytest.raises(ValueError, match='expected 6 logits .* got 5'):
        module(torch.zeros(2, 5), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match='none'):
        module(torch.zeros(2, 6), torch.tensor([0, 5]), reduction_override='none')
    assert module.get_cls_channels(5) == 6
    with pytest.raises(ValueError, match='num_classes=6'):
        module.get_cls_channels(6)


# ------------------------------------------------------------------------- the bbox head (test time)

def head_cfg() -> dict:
    return dict(type='ECMLoss', num_classes=3, class_stats=dict(num_images=10, image_count=[8, 3, 1],
                                                                instance_count=[20, 4, 1]))


def test_head_scores_sigmoid_times_not_background():
    """Test scores: sigmoid(s) on all C+1 columns, classes times 1 - sigmoid(s_bg); no factor 2, no margin."""
    from mmengine.config import ConfigDict

    head = build_head(head_cfg(), cls_predictor_cfg=dict(type='NormedLinear', tempearture=20)).eval()
    assert head.fc_cls.out_features == 4
    feats, rois = head_inputs(5)
    with torch.no_grad():
        cls_score, result = predict_scores(head, feats, rois)
        assert cls_score.abs().max() <= 20 + 1e-4  # NormedLinear(tau=20), bias 0
        prob = torch.sigmoid(cls_score.double())
        want = torch.cat([prob[:, :3] * (1 - prob[:, 3:]), prob[:, 3:]], dim=1)
        close(result.scores, want, rtol=1e-6)
        _, dets = predict_scores(head, feats, rois, ConfigDict(score_thr=0.0, max_per_img=100,
                                                               nms=dict(type='nms', iou_threshold=0.5)))
    assert dets.labels.max() < 3
    assert dets.scores.max().item() == pytest.approx(want[:, :3].max().item(), rel=1e-6)


def test_head_loss_accuracy_and_checkpoint(tmp_path):
    """The head trains through ECMLoss; the loss holds no state (the margins come from class_stats), so a
    checkpoint round trip gives the same loss."""
    from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint

    head = build_head(head_cfg(), cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))
    feats, _ = head_inputs(2)
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    cls_score, bbox_pred = head(feats)
    losses = head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels))
    assert {'loss_cls', 'acc_objectness', 'acc_classes', 'loss_bbox'} <= set(losses)
    acc = head.loss_cls.get_accuracy(cls_score, labels)
    assert losses['acc_classes'].item() == pytest.approx(acc['acc_classes'].item())
    close(losses['loss_cls'], official_ecm(cls_score.detach().double(), labels.tolist(), [20, 4, 1]), rtol=1e-5)
    assert not any(k.startswith('loss_cls.') for k in head.state_dict())
    path = str(tmp_path / 'ecm.pth')
    save_checkpoint(dict(meta=dict(iter=1), state_dict=head.state_dict()), path)
    restored = build_head(head_cfg(), cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))
    load_checkpoint(restored, path, map_location='cpu', strict=True)
    with torch.no_grad():
        close(restored.loss_cls(restored(feats)[0], labels), head.loss_cls(head(feats)[0], labels), rtol=1e-6)
