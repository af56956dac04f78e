"""GLMC: the CutMix box and the in-place paste, MixUp, the soft and weighted labels, the label weights w_c, the three
losses against a naive transcription of the official code (ynu-yangpeng/GLMC utils/util.py rand_bbox / GLMC_mixed,
Trainer.py update_weight / train / SimSiamLoss; values and gradients, the stop-gradient), a whole training step of
GLMCClassifier against the same transcription, one lam and box over two gloo ranks, alpha_e and its checkpoint /
resume, the partner sampling distribution and its rank split, PairedDataset, the two-view data preprocessor,
prediction from fc_cb only, the official ImageNet-LT lr schedule, and the Digits-LT config training on CPU."""
import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmengine.dataset import DefaultSampler, default_collate
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from scipy import stats as scipy_stats

import ltmm.cls  # noqa: F401  (registration)
from ltmm.cls.classifiers.glmc_classifier import GLMCClassifier, cutmix_, cutmix_box, mixup
from ltmm.cls.datasets import PairedDataset
from ltmm.cls.heads.glmc_head import (
    GLMCOutputs,
    cumulative_alpha,
    cumulative_class_weights,
    glmc_loss,
    mixed_targets,
    simsiam_loss,
)
from ltmm.cls.samplers import PartnerSampler
from ltmm.cls.samplers.partner_sampler import partner_probabilities
from ltmm.cls.schedulers import paco_warmup_cosine_factor

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

CONFIGS = REPO / 'configs' / 'glmc'
DIGITS = str(CONFIGS / 'glmc_lenet_1xb32_digits-lt_30e.py')
COUNTS = [40, 12, 5, 2]


def stats(counts=COUNTS):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build_head(counts=COUNTS, in_channels=6, **kw):
    cfg = dict(type='GLMCHead', num_classes=len(counts), in_channels=in_channels, class_stats=stats(counts),
               max_epochs=kw.pop('max_epochs', 10), proj_channels=kw.pop('proj_channels', 5), **kw)
    return MODELS.build(cfg)


def tiny_classifier(counts=COUNTS, **head_kw):
    """GLMCClassifier on a small conv net with BatchNorm (so the two passes' batch statistics matter)."""
    return MODELS.build(dict(
        type='GLMCClassifier',
        backbone=dict(type='ResNet32CIFAR', in_channels=1, stage_channels=(4, 4, 8)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='GLMCHead', num_classes=len(counts), in_channels=8, proj_channels=6, class_stats=stats(counts),
                  max_epochs=10, label_weight_power=1.2, contrast_weight=4.0, **head_kw),
        data_preprocessor=dict(mean=[127.5], std=[127.5])))


# ------------------------------------------------------------------ naive transcriptions of the official code

def official_rand_bbox(size, lam, cx, cy):
    """utils/util.py rand_bbox with its np.random.randint draws replaced by (cx, cy); size is NCHW."""
    W = size[2]
    H = size[3]
    cut_rat = np.sqrt(1. - lam)
    cut_w = np.ceil(W * cut_rat).astype(int)
    cut_h = np.ceil(H * cut_rat).astype(int)
    bbx1 = np.clip(cx - cut_w // 2, 0, W)
    bby1 = np.clip(cy - cut_h // 2, 0, H)
    bbx2 = np.clip(cx + cut_w // 2, 0, W)
    bby2 = np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def official_glmc_mixed(org1, org2, invs1, invs2, label_org, label_invs, label_org_w, label_invs_w, lam, cx, cy):
    """utils/util.py GLMC_mixed with its lam and box centre given."""
    mixup_x = lam * org1 + (1 - lam) * invs1
    mixup_y = lam * label_org + (1 - lam) * label_invs
    mixup_y_w = lam * label_org_w + (1 - lam) * label_invs_w
    bbx1, bby1, bbx2, bby2 = official_rand_bbox(org2.size(), lam, cx, cy)
    org2[:, :, bbx1:bbx2, bby1:bby2] = invs2[:, :, bbx1:bbx2, bby1:bby2]
    cutmix_y = lam * label_org + (1 - lam) * label_invs
    cutmix_y_w = lam * label_org_w + (1 - lam) * label_invs_w
    return mixup_x, org2, mixup_y, cutmix_y, mixup_y_w, cutmix_y_w


def official_weights(cls_num_list, label_weighting):
    """Trainer.py update_weight."""
    per_cls_weights = 1.0 / (np.array(cls_num_list) ** label_weighting)
    per_cls_weights = per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)
    return torch.FloatTensor(per_cls_weights)


def official_labels(target_org, target_invs, num_classes, per_cls_weights):
    """Trainer.py train: the one-hot and weighted one-hot labels."""
    one_hot_org = torch.zeros(target_org.size(0), num_classes).scatter_(1, target_org.view(-1, 1), 1)
    one_hot_org_w = per_cls_weights * one_hot_org
    one_hot_invs = torch.zeros(target_invs.size(0), num_classes).scatter_(1, target_invs.view(-1, 1), 1)
    one_hot_invs_w = per_cls_weights * one_hot_invs
    return one_hot_org, one_hot_invs, one_hot_org_w, one_hot_invs_w


def official_simsiam(p, z):
    """Trainer.py SimSiamLoss, 'simplified'."""
    z = z.detach()
    return - F.cosine_similarity(p, z, dim=-1).mean()


def official_loss(out1, out2, mixup_y, mixcut_y, mixup_y_w, cutmix_y_w, alpha, contrast_weight):
    """Trainer.py train, from the two passes' (output, output_cb, z, p)."""
    output_1, output_cb_1, z1, p1 = out1
    output_2, output_cb_2, z2, p2 = out2
    contrastive_loss = official_simsiam(p1, z2) + official_simsiam(p2, z1)
    loss_mix = -torch.mean(torch.sum(F.log_softmax(output_1, dim=1) * mixup_y, dim=1))
    loss_cut = -torch.mean(torch.sum(F.log_softmax(output_2, dim=1) * mixcut_y, dim=1))
    loss_mix_w = -torch.mean(torch.sum(F.log_softmax(output_cb_1, dim=1) * mixup_y_w, dim=1))
    loss_cut_w = -torch.mean(torch.sum(F.log_softmax(output_cb_2, dim=1) * cutmix_y_w, dim=1))
    balance_loss = loss_mix + loss_cut
    rebalance_loss = loss_mix_w + loss_cut_w
    return alpha * balance_loss + (1 - alpha) * rebalance_loss + contrast_weight * contrastive_loss


# ------------------------------------------------------------------ mixing

@pytest.mark.parametrize('height,width', [(32, 32), (7, 10), (1, 5)])
def test_cutmix_box_is_the_official_rand_bbox(height, width):
    rng = np.random.default_rng(0)
    for lam in [0.0, 1.0, 0.5, 0.999, 1e-6, *rng.random(20)]:
        for row in {0, height // 2, height - 1, int(rng.integers(height))}:
            for col in {0, width // 2, width - 1, int(rng.integers(width))}:
                x1, y1, x2, y2 = official_rand_bbox((2, 3, height, width), lam, row, col)
                assert cutmix_box(height, width, lam, (row, col)) == (x1, x2, y1, y2), (lam, row, col)


def test_cutmix_box_by_hand():
    # lam 0.75: sides ceil(32 * 0.5) = 16, 8 on each side of the centre; an odd side ceil(7 * 0.5) = 4 -> 2 + 2
    assert cutmix_box(32, 32, 0.75, (10, 20)) == (2, 18, 12, 28)
    assert cutmix_box(32, 32, 0.75, (30, 1)) == (22, 32, 0, 9)  # clipped at the borders
    assert cutmix_box(7, 7, 0.75, (3, 3)) == (1, 5, 1, 5)
    assert cutmix_box(32, 32, 1.0, (5, 5)) == (5, 5, 5, 5)  # lam 1: empty box
    assert cutmix_box(32, 32, 0.0, (16, 16)) == (0, 32, 0, 32)  # lam 0: the whole image


def test_mixup_and_in_place_cutmix():
    torch.manual_seed(0)
    x, partner = torch.randn(3, 2, 8, 8), torch.randn(3, 2, 8, 8)
    torch.testing.assert_close(mixup(x, partner, 0.3), 0.3 * x + 0.7 * partner)
    original = x.clone()
    box = cutmix_box(8, 8, 0.6, (2, 5))
    out = cutmix_(x, partner, box)
    # sides ceil(8 sqrt(0.4)) = 6: rows 2 - 3 .. 2 + 3 clipped to 0..5, columns 5 - 3 .. 5 + 3 = 2..8
    assert out is x and box == (0, 5, 2, 8)  # pasted into x itself, the same box for every sample
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[0:5, 2:8] = True
    torch.testing.assert_close(x[:, :, inside], partner[:, :, inside])
    torch.testing.assert_close(x[:, :, ~inside], original[:, :, ~inside])


def test_mixed_labels_are_the_official_ones():
    counts = [50, 20, 9, 3, 1]
    labels, partners = torch.tensor([0, 4, 2, 2, 1]), torch.tensor([3, 4, 0, 1, 1])
    weights = cumulative_class_weights(counts, 1.2)
    org, invs, org_w, invs_w = official_labels(labels, partners, 5, official_weights(counts, 1.2))
    torch.testing.assert_close(weights, official_weights(counts, 1.2))
    lam = 0.37
    out = official_glmc_mixed(torch.zeros(5, 1, 4, 4), torch.zeros(5, 1, 4, 4), torch.zeros(5, 1, 4, 4),
                              torch.zeros(5, 1, 4, 4), org, invs, org_w, invs_w, lam, 1, 1)
    soft, weighted = mixed_targets(labels, partners, lam, 5), mixed_targets(labels, partners, lam, 5, weights)
    for official in out[2:4]:  # MixUp and CutMix share the label (the same lam, not area-corrected)
        torch.testing.assert_close(soft, official)
    for official in out[4:6]:
        torch.testing.assert_close(weighted, official)
    torch.testing.assert_close(soft.sum(1), torch.ones(5))
    # a sample mixed with its own class keeps the full weight on it
    assert soft[1, 4] == pytest.approx(1.0) and weighted[1, 4] == pytest.approx(float(weights[4]))


# ------------------------------------------------------------------ label weights

def test_cumulative_class_weights_by_hand_and_errors():
    torch.testing.assert_close(cumulative_class_weights([4, 1], 1.0), torch.tensor([0.4, 1.6]))  # 2 * [1/4, 1] / 1.25
    torch.testing.assert_close(cumulative_class_weights([7, 3, 1], 0.0), torch.ones(3))
    weights = cumulative_class_weights([500, 100, 20, 5], 1.2)
    assert weights.mean() == pytest.approx(1.0) and bool((weights[1:] > weights[:-1]).all())
    with pytest.raises(ValueError, match=r'classes \[1\]'):
        cumulative_class_weights([5, 0, 2], 1.0)
    with pytest.raises(ValueError, match='kappa'):
        cumulative_class_weights([5, 2], float('nan'))
    with pytest.raises(ValueError, match='class index 2'):
        build_head(counts=[5, 3, 0, 1])
    with pytest.raises(ValueError, match='num_classes=5'):
        MODELS.build(dict(type='GLMCHead', num_classes=5, in_channels=4, class_stats=stats(), max_epochs=3))


# ------------------------------------------------------------------ losses

def outputs(n, c, d, seed):
    g = torch.Generator().manual_seed(seed)
    return GLMCOutputs(*(torch.randn(n, k, generator=g, dtype=torch.float64).requires_grad_() for k in (c, c, d, d)))


@pytest.mark.parametrize('alpha', [1.0, 0.75, 0.0])
def test_glmc_loss_value_and_gradient_match_the_official(alpha):
    counts = [30, 10, 4, 2, 1]
    labels, partners = torch.tensor([0, 0, 1, 3, 0, 1]), torch.tensor([1, 2, 0, 3, 1, 1])  # class 4 absent
    weights = cumulative_class_weights(counts, 1.2).double()
    lam = 0.62
    mix, cut = outputs(6, 5, 4, 0), outputs(6, 5, 4, 1)
    losses = glmc_loss(mix, cut, mixed_targets(labels, partners, lam, 5).double(),
                       mixed_targets(labels, partners, lam, 5, weights), alpha, 4.0)
    assert set(losses) == {'loss_balanced', 'loss_rebalanced', 'loss_consistency'}
    ours = sum(losses.values())
    ours_grads = torch.autograd.grad(ours, [*mix, *cut], allow_unused=True)

    org, invs, org_w, invs_w = official_labels(labels, partners, 5, official_weights(counts, 1.2).double())
    y, y_w = lam * org.double() + (1 - lam) * invs.double(), lam * org_w + (1 - lam) * invs_w
    mix2, cut2 = outputs(6, 5, 4, 0), outputs(6, 5, 4, 1)
    official = official_loss(mix2, cut2, y, y, y_w, y_w, alpha, 4)
    official_grads = torch.autograd.grad(official, [*mix2, *cut2], allow_unused=True)
    torch.testing.assert_close(ours, official)
    for a, b in zip(ours_grads, official_grads):
        assert (a is None) == (b is None)  # the projections: no gradient (stop-gradient), in both
        if a is not None:
            torch.testing.assert_close(a, b)
    # the balanced branch's logits get no gradient at alpha 0, the re-weighted one's none at alpha 1
    if alpha == 0.0:
        assert ours_grads[0].abs().max() == 0
    if alpha == 1.0:
        assert ours_grads[1].abs().max() == 0


def test_consistency_stops_the_gradient_at_the_projections():
    mix, cut = outputs(4, 3, 5, 2), outputs(4, 3, 5, 3)
    target = torch.full((4, 3), 1 / 3, dtype=torch.float64)
    consistency = glmc_loss(mix, cut, target, target, 1.0, 2.0)['loss_consistency']
    grads = torch.autograd.grad(consistency, [mix.projection, cut.projection, mix.prediction, cut.prediction],
                                allow_unused=True)
    assert grads[0] is None and grads[1] is None  # sg(g): no gradient through the targets
    assert grads[2].abs().sum() > 0 and grads[3].abs().sum() > 0
    # cos(q, g) of identical directions is 1: the term is -2 lambda_c at its minimum
    same = GLMCOutputs(mix.logits, mix.cb_logits, mix.prediction.detach() * 3, mix.prediction)
    assert glmc_loss(same, same, target, target, 1.0, 2.0)['loss_consistency'].item() == pytest.approx(-4.0)
    p = torch.randn(4, 5, requires_grad=True)
    z = torch.randn(4, 5, requires_grad=True)
    simsiam_loss(p, z).backward()
    assert z.grad is None and p.grad is not None


def test_head_loss_is_the_official_loss_of_its_layers():
    torch.manual_seed(0)
    head = build_head(counts=COUNTS, in_channels=6, label_weight_power=1.2, contrast_weight=4.0, max_epochs=10)
    head.set_epoch(4)
    feats_mix, feats_cut = (torch.randn(5, 6, requires_grad=True),), (torch.randn(5, 6, requires_grad=True),)
    labels, partners = torch.tensor([0, 1, 0, 3, 2]), torch.tensor([2, 2, 0, 1, 3])
    losses = head.loss(feats_mix, feats_cut, labels, partners, 0.3)
    assert losses['glmc_alpha'].item() == pytest.approx(1 - 0.4 ** 2)
    ours = sum(v for k, v in losses.items() if 'loss' in k)
    ours.backward()
    ours_grads = [p.grad.clone() for p in head.parameters()] + [feats_mix[0].grad.clone(), feats_cut[0].grad.clone()]

    head.zero_grad()
    fm, fc = feats_mix[0].detach().requires_grad_(), feats_cut[0].detach().requires_grad_()

    def official_forward(feature):
        z = head.projector(feature)
        return head.fc(feature), head.fc_cb(feature), z, head.predictor(z)

    org, invs, org_w, invs_w = official_labels(labels, partners, 4, official_weights(COUNTS, 1.2))
    y, y_w = 0.3 * org + 0.7 * invs, 0.3 * org_w + 0.7 * invs_w
    official = official_loss(official_forward(fm), official_forward(fc), y, y, y_w, y_w, 1 - (4 / 10) ** 2, 4)
    official.backward()
    torch.testing.assert_close(ours, official)
    for a, b in zip(ours_grads, [p.grad for p in head.parameters()] + [fm.grad, fc.grad]):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match='partner_labels must lie in 0..3'):
        head.loss(feats_mix, feats_cut, labels, torch.tensor([0, 1, 4, 0, 0]), 0.5)


# ------------------------------------------------------------------ the classifier's training step

def pair_batch(n=6, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (n, 1, size, size), generator=g, dtype=torch.uint8) for _ in range(4)]
    labels = torch.randint(0, len(COUNTS), (n, ), generator=g)
    partners = torch.randint(0, len(COUNTS), (n, ), generator=g)
    samples = []
    for i in range(n):
        data_sample = DataSample().set_gt_label(int(labels[i]))
        data_sample.set_field(torch.tensor([int(partners[i])]), 'partner_label')
        samples.append(data_sample)
    return {'inputs': views, 'data_samples': samples}, labels, partners


def test_training_step_matches_the_official_step():
    torch.manual_seed(1)
    model = tiny_classifier()
    model.head.set_epoch(3)
    official_model = copy.deepcopy(model)
    batch, labels, partners = pair_batch()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    views = [v.clone() for v in data['inputs']]

    torch.manual_seed(7)
    losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    loss.backward()
    assert log_vars['glmc_alpha'] == pytest.approx(1 - 0.3 ** 2)

    torch.manual_seed(7)  # the same draws: lam ~ Beta(1, 1), then the box centre (row, column)
    one = torch.tensor(1.0, dtype=torch.float64)
    lam = float(torch.distributions.Beta(one, one).sample())
    cx, cy = int(torch.randint(12, ())), int(torch.randint(12, ()))
    torch.manual_seed(7)
    assert model.draw_mixing(12, 12) == (lam, (cx, cy))
    org, invs, org_w, invs_w = official_labels(labels, partners, 4, official_weights(COUNTS, 1.2))
    mix_x, cut_x, mixup_y, mixcut_y, mixup_y_w, cutmix_y_w = official_glmc_mixed(
        views[0], views[1], views[2], views[3], org, invs, org_w, invs_w, lam, cx, cy)

    def official_forward(x):
        feature = official_model.neck(official_model.backbone(x))[-1]
        head = official_model.head
        z = head.projector(feature)
        return head.fc(feature), head.fc_cb(feature), z, head.predictor(z)

    out1 = official_forward(mix_x)
    out2 = official_forward(cut_x)
    official = official_loss(out1, out2, mixup_y, mixcut_y, mixup_y_w, cutmix_y_w, 1 - 0.3 ** 2, 4)
    official.backward()
    torch.testing.assert_close(loss, official)
    torch.testing.assert_close(data['inputs'][1], cut_x)  # x_2 received the box in place
    for (name, p), q in zip(model.named_parameters(), official_model.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)
    for (name, b), c in zip(model.named_buffers(), official_model.buffers()):  # BatchNorm statistics of both passes
        torch.testing.assert_close(b, c, msg=name)


def mixing_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        torch.manual_seed(100 + rank)  # ranks whose generators differ
        torch.save(tiny_classifier().draw_mixing(32, 32), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_every_rank_mixes_with_rank_0s_lam_and_box(tmp_path):
    """One lam and one box for the global batch, as the official nn.DataParallel run: rank 0's draw, broadcast."""
    mp.start_processes(mixing_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    draws = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    torch.manual_seed(100)
    assert draws[0] == draws[1] == tiny_classifier().draw_mixing(32, 32)


def test_training_step_errors():
    model = tiny_classifier()
    batch, _, _ = pair_batch()
    data = model.data_preprocessor(batch, True)
    with pytest.raises(ValueError, match='got a list of 2 views'):
        model(data['inputs'][:2], data['data_samples'], mode='loss')
    with pytest.raises(ValueError, match='got Tensor'):
        model(data['inputs'][0], data['data_samples'], mode='loss')
    unpaired = [DataSample().set_gt_label(0) for _ in range(6)]
    with pytest.raises(ValueError, match='no partner_label'):
        model(data['inputs'], unpaired, mode='loss')
    with pytest.raises(ValueError, match='mix_alpha'):
        GLMCClassifier(backbone=dict(type='LeNet5', num_classes=-1), head=dict(type='GLMCHead'), mix_alpha=0.0)
    with pytest.raises(TypeError, match='GLMCHead'):
        GLMCClassifier(backbone=dict(type='LeNet5', num_classes=-1), neck=dict(type='GlobalAveragePooling'),
                       head=dict(type='LinearClsHead', num_classes=4, in_channels=120))


def test_cifar_config_is_the_official_4x_wide_resnet32():
    """ResNet_modify(nf=64): a 64-channel stem, 5 basic blocks at 64 / 128 / 256 channels with parameter-free option-A
    shortcuts, and the four linear layers on the 256-d feature: 7,484,424 parameters on CIFAR-100 (standard ResNet-32:
    0.46M)."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(CONFIGS / 'glmc_resnet32-4xwide_1xb64_cifar100-lt-if100_200e.py'))
    model = MODELS.build(cfg.model)

    def conv(i, o):
        return i * o * 9

    def block(i, o):
        return conv(i, o) + 2 * o + conv(o, o) + 2 * o

    def stage(i, o):
        return block(i, o) + 4 * block(o, o)

    backbone = conv(3, 64) + 2 * 64 + stage(64, 64) + stage(64, 128) + stage(128, 256)
    head = 2 * (256 * 100 + 100) + (256 * 128 + 128) + (128 * 128 + 128)
    assert sum(p.numel() for p in model.backbone.parameters()) == backbone
    assert sum(p.numel() for p in model.parameters()) == backbone + head == 7484424
    assert model.backbone(torch.zeros(2, 3, 32, 32))[-1].shape == (2, 256, 8, 8)


# ------------------------------------------------------------------ prediction

def test_prediction_uses_fc_cb_only():
    torch.manual_seed(0)
    model = tiny_classifier().eval()
    images = torch.randint(0, 256, (5, 1, 12, 12), dtype=torch.uint8)
    data = model.data_preprocessor({'inputs': images, 'data_samples': None}, False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])[-1]
        expected = F.softmax(model.head.fc_cb(feats), dim=1)
        preds = model(**data, mode='predict')
        logits = model(data['inputs'], mode='tensor')
        torch.testing.assert_close(logits, model.head.fc_cb(feats))
        for layer in (model.head.fc, model.head.projector, model.head.predictor):
            layer.weight.add_(10.0)
        unchanged = model(**data, mode='predict')
        model.head.fc_cb.weight.add_(torch.randn_like(model.head.fc_cb.weight))
        changed = model(**data, mode='predict')
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), expected)
    assert [int(p.pred_label) for p in preds] == expected.argmax(1).tolist()
    torch.testing.assert_close(torch.stack([p.pred_score for p in unchanged]), expected)
    assert not torch.allclose(torch.stack([p.pred_score for p in changed]), expected)


# ------------------------------------------------------------------ alpha_e

def test_alpha_schedule_and_epoch_errors():
    head = build_head(max_epochs=200)
    assert head.alpha == 1.0
    for epoch, alpha in [(0, 1.0), (100, 0.75), (199, 1 - (199 / 200) ** 2)]:
        head.set_epoch(epoch)
        assert head.alpha == pytest.approx(alpha) == pytest.approx(cumulative_alpha(epoch, 200))
    for epoch in (-1, 200):
        with pytest.raises(ValueError, match='outside 0..199'):
            head.set_epoch(epoch)
    with pytest.raises(ValueError, match='max_epochs'):
        build_head(max_epochs=0)


def test_alpha_survives_a_checkpoint_round_trip(tmp_path):
    head = build_head(max_epochs=30, label_weight_power=1.2)
    head.set_epoch(17)
    torch.save(head.state_dict(), tmp_path / 'head.pth')
    fresh = build_head(max_epochs=30, label_weight_power=1.2)
    assert fresh.alpha == 1.0
    fresh.load_state_dict(torch.load(tmp_path / 'head.pth'))
    assert int(fresh.epoch) == 17 and fresh.alpha == pytest.approx(1 - (17 / 30) ** 2)
    torch.testing.assert_close(fresh.class_weights, cumulative_class_weights(COUNTS, 1.2))


# ------------------------------------------------------------------ partner sampling

class LabelDataset:
    """The smallest dataset a sampler and PairedDataset take: labels, and a packed two-view sample per index."""

    def __init__(self, labels, views=2):
        self.labels = list(labels)
        self.views = views
        self.metainfo = dict(classes=[str(c) for c in range(max(self.labels) + 1)])

    def __len__(self):
        return len(self.labels)

    def get_cat_ids(self, idx):
        return [self.labels[idx]]

    def __getitem__(self, idx):
        inputs = [torch.full((1, 2, 2), float(idx * 10 + v)) for v in range(self.views)]
        return {'inputs': inputs if self.views > 1 else inputs[0],
                'data_samples': DataSample().set_gt_label(self.labels[idx])}


LABELS = [0] * 60 + [1] * 25 + [2] * 10 + [3] * 4 + [4] * 1


@pytest.mark.parametrize('q', [0.0, 0.2, 1.0, 2.0])
def test_partner_probabilities_are_exact(q):
    probs = partner_probabilities(np.asarray(LABELS), q)
    counts = np.bincount(LABELS).astype(float)
    expected = counts[LABELS] ** -q / (counts ** (1 - q)).sum()
    np.testing.assert_allclose(probs, expected)
    class_probs = np.bincount(LABELS, weights=probs)
    np.testing.assert_allclose(class_probs, counts ** (1 - q) / (counts ** (1 - q)).sum())  # ∝ n^(1-q)
    if q == 1.0:
        np.testing.assert_allclose(class_probs, np.full(5, 0.2))


@pytest.mark.parametrize('q', [0.0, 0.2, 1.0])
def test_partner_class_frequencies_follow_n_to_the_one_minus_q(q):
    sampler = PartnerSampler(LabelDataset(LABELS), q=q, seed=3407)
    classes = []
    for epoch in range(40):
        sampler.set_epoch(epoch)
        classes += [LABELS[j] for _, j in sampler]
    observed = np.bincount(classes, minlength=5)
    counts = np.bincount(LABELS).astype(float)
    expected = counts ** (1 - q) / (counts ** (1 - q)).sum() * len(classes)
    assert scipy_stats.chisquare(observed, expected).pvalue > 1e-3


def test_partner_sampler_pairs_epochs_and_ranks(monkeypatch):
    import mmengine.dataset.sampler as mm_sampler

    dataset = LabelDataset(LABELS[:13])  # 13 samples: padded to 14 on 2 ranks
    single = PartnerSampler(dataset, q=0.5, seed=5)
    pairs = list(single)
    assert [i for i, _ in pairs] == list(DefaultSampler(dataset, shuffle=True, seed=5))
    assert len(pairs) == 13 and all(isinstance(j, int) and 0 <= j < 13 for _, j in pairs)
    assert pairs == list(PartnerSampler(dataset, q=0.5, seed=5))  # seeded
    single.set_epoch(1)
    assert [j for _, j in single] != [j for _, j in pairs]  # re-drawn every epoch

    ranks = []
    for rank in range(2):
        monkeypatch.setattr(mm_sampler, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = PartnerSampler(dataset, q=0.5, seed=5)
        sampler.set_epoch(3)
        ranks.append(list(sampler))
    assert len(ranks[0]) == len(ranks[1]) == 7  # the same number of steps on every rank
    stream = sampler.draw_partners(3)  # one i.i.d. stream of the whole (padded) epoch, dealt round-robin
    assert len(stream) == 14
    assert [j for _, j in ranks[0]] == stream[0::2].tolist() and [j for _, j in ranks[1]] == stream[1::2].tolist()
    assert {i for r in ranks for i, _ in r} == set(range(13))  # the instances: DefaultSampler's split


def test_partner_sampler_errors():
    with pytest.raises(ValueError, match='q must be a finite number'):
        PartnerSampler(LabelDataset(LABELS), q=float('inf'), seed=0)

    class MultiLabel(LabelDataset):
        def get_cat_ids(self, idx):
            return [0, 1] if idx == 2 else [self.labels[idx]]

    with pytest.raises(ValueError, match=r'sample 2 .* has classes \[0, 1\]'):
        PartnerSampler(MultiLabel(LABELS), seed=0)


# ------------------------------------------------------------------ PairedDataset and the two-view pipeline

def test_paired_dataset_packs_four_views_and_the_partner_label():
    dataset = PairedDataset(LabelDataset(LABELS))
    assert len(dataset) == len(LABELS) and dataset.get_cat_ids(99) == [4] and dataset.metainfo['classes'][4] == '4'
    sample = dataset[(3, 99)]
    assert [float(v[0, 0, 0]) for v in sample['inputs']] == [30.0, 31.0, 990.0, 991.0]  # x_1, x_2, x~_1, x~_2
    assert int(sample['data_samples'].gt_label) == 0 and int(sample['data_samples'].partner_label) == 4
    single = PairedDataset(LabelDataset(LABELS, views=1))[(1, 2)]
    assert len(single['inputs']) == 2
    with pytest.raises(TypeError, match='PartnerSampler'):
        dataset[3]
    batch = default_collate([dataset[(i, j)] for i, j in [(0, 1), (2, 3), (4, 5)]])
    assert len(batch['inputs']) == 4 and all(v.shape == (3, 1, 2, 2) for v in batch['inputs'])
    assert [int(ds.partner_label) for ds in batch['data_samples']] == [0, 0, 0]


def test_two_view_data_preprocessor_normalises_and_stacks_views():
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/digits_lt_two_view.py'))
    preprocessor = MODELS.build(cfg.data_preprocessor)
    assert type(preprocessor).__name__ == 'SelfSupDataPreprocessor'
    g = torch.Generator().manual_seed(0)
    samples = [{'inputs': [torch.randint(0, 256, (1, 6, 6), generator=g, dtype=torch.uint8) for _ in range(2)],
                'data_samples': DataSample().set_gt_label(i)} for i in range(3)]
    train = preprocessor(default_collate(samples), True)
    assert isinstance(train['inputs'], list) and len(train['inputs']) == 2
    for view, tensor in enumerate(train['inputs']):
        raw = torch.stack([s['inputs'][view] for s in samples]).float()
        torch.testing.assert_close(tensor, (raw - 127.5) / 127.5)
    test = preprocessor(default_collate([{'inputs': s['inputs'][0], 'data_samples': s['data_samples']}
                                         for s in samples]), False)
    torch.testing.assert_close(test['inputs'], (torch.stack([s['inputs'][0] for s in samples]).float() - 127.5) / 127.5)
    assert [int(ds.gt_label) for ds in test['data_samples']] == [0, 1, 2]


def test_digits_lt_paired_dataset_through_the_real_pipeline(cls_workspace, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS

    monkeypatch.chdir(cls_workspace)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(DIGITS)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert isinstance(dataset, PairedDataset)
    sample = dataset[(0, 5)]
    assert len(sample['inputs']) == 4 and all(v.shape == (1, 32, 32) for v in sample['inputs'])
    assert int(sample['data_samples'].partner_label) == dataset.get_cat_ids(5)[0]


# ------------------------------------------------------------------ the official ImageNet-LT lr schedule

def official_lrs(base, epochs):
    """The lr each epoch of Trainer.train runs at: the optimizer's base lr for epoch 0, then the value
    paco_adjust_learning_rate(epoch) set after epoch `epoch`."""
    lrs, lr_now = [], base
    for epoch in range(epochs):
        lrs.append(lr_now)
        warmup_epochs = 10
        lr = base
        if epoch <= warmup_epochs:
            lr = base / warmup_epochs * (epoch + 1)
        else:
            lr *= 0.5 * (1. + math.cos(math.pi * (epoch - warmup_epochs + 1) / (epochs - warmup_epochs + 1)))
        lr_now = lr
    return lrs


def scheduled_lrs(scheduler_cfg, base, epochs):
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import PARAM_SCHEDULERS

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    wrapper = OptimWrapper(optimizer)
    scheduler = PARAM_SCHEDULERS.build(dict(scheduler_cfg), default_args=dict(optimizer=wrapper))
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        wrapper.step()  # an epoch of training, then the epoch's scheduler step
        scheduler.step()
    return lrs


def test_glmc_imagenet_lr_schedule_is_the_official_one():
    from mmengine.config import Config

    cfg = Config.fromfile(str(CONFIGS / '_base_' / 'glmc_imagenet_lt.py'))
    ours = scheduled_lrs(cfg.param_scheduler, 0.1, 135)
    expected = official_lrs(0.1, 135)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert ours[0] == 0.1 and ours[1] == pytest.approx(0.01) and ours[11] == pytest.approx(0.11)
    assert ours[12] == pytest.approx(0.05 * (1 + math.cos(math.pi * 2 / 126)))


def test_paco_factor_and_scheduler_errors():
    # PaCo's own use: set at the start of each epoch, warm-up e < W
    assert [paco_warmup_cosine_factor(e, 400) for e in (0, 9)] == [0.1, 1.0]
    assert paco_warmup_cosine_factor(10, 400) == pytest.approx(0.5 * (1 + math.cos(math.pi / 391)))
    with pytest.raises(ValueError, match='by_epoch'):
        scheduled_lrs(dict(type='PaCoWarmupCosineLR', by_epoch=False, end=20), 0.1, 1)
    with pytest.raises(ValueError, match='finite end'):
        scheduled_lrs(dict(type='PaCoWarmupCosineLR', by_epoch=True), 0.1, 1)


# ------------------------------------------------------------------ Digits-LT on CPU

@pytest.mark.slow
def test_digits_lt_config_trains_and_resumes(cls_workspace, tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(DIGITS, tmp_path / 'smoke')
    assert math.isfinite(loss)
    assert type(runner.model).__name__ == 'GLMCClassifier' and int(runner.model.head.epoch) == 0
    assert runner.message_hub.get_scalar('train/glmc_alpha').current() == 1.0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key

    def short_run(work_dir: Path, max_epochs: int, resume: bool):
        cfg = Config.fromfile(DIGITS)
        cfg.work_dir = str(work_dir)
        cfg.train_dataloader.dataset.dataset.indices = 32  # one iteration per epoch
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            loader.num_workers = 0
            loader.persistent_workers = False
        cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval = max_epochs, 10
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
        cfg.param_scheduler = []
        if resume:
            cfg.resume, cfg.load_from = True, str(tmp_path / 'first' / 'epoch_1.pth')
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner

    first = short_run(tmp_path / 'first', 1, resume=False)
    assert int(first.model.head.epoch) == 0
    resumed = short_run(tmp_path / 'resumed', 2, resume=True)
    assert int(resumed.model.head.epoch) == 1  # LossEpochHook told the resumed epoch
    assert resumed.message_hub.get_scalar('train/glmc_alpha').current() == pytest.approx(1 - (1 / 30) ** 2)
