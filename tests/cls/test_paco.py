"""PaCo and GPaCo: the losses against a naive per-anchor transcription of the official ``PaCoLoss``
(dvlab-research/Parametric-Contrastive-Learning ``PaCo/LT/losses.py``, ``GPaCo/LT/losses.py``; value and gradient),
the reductions (alpha = gamma = 0, beta = 1: Balanced Softmax; no prior: CE; gamma = 0: no sample term in the
denominator), a class with one sample in the batch, the empty (-1) queue at the start, fp16 inputs, errors, the
official learning-rate schedules, the official RandAugment policy as our configs express it, the model's state through
a checkpoint, and the Digits-LT configs training on CPU."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses.paco_loss import paco_loss
from ltmm.cls.schedulers import paco_warmup_cosine_factor, paco_warmup_step_factor

from ..helpers import REPO

COUNTS = [40, 12, 5, 2]


def stats(counts=COUNTS):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def unit(*shape, generator=None):
    return F.normalize(torch.randn(*shape, generator=generator, dtype=torch.float64), dim=-1)


# ------------------------------------------------------------------ naive transcription of the official loss

def official_paco(features, labels, sup_logits, prior, temperature, alpha, beta=1.0, gamma=1.0, smooth=0.0,
                  base_temperature=None):
    """``PaCoLoss.forward`` of the official ``losses.py`` one anchor at a time: the anchors are the first
    ``len(sup_logits)`` rows of ``features``; ``prior`` the class frequencies (``cal_weight_for_classes``) or None."""
    num_anchors, num_classes = sup_logits.shape
    base_temperature = temperature if base_temperature is None else base_temperature
    total = 0.0
    for i in range(num_anchors):
        centre = sup_logits[i] + (torch.log(prior + 1e-9) if prior is not None else 0.0)
        samples = torch.stack([features[i] @ features[j] / temperature for j in range(len(features))])
        row = torch.cat([centre, samples])
        row = row - row.max().detach()
        denom = row[:num_classes].exp().sum() + 1e-12
        for j in range(len(features)):
            if j != i:
                denom = denom + gamma * row[num_classes + j].exp()
        log_prob = row - torch.log(denom)
        target = torch.full((num_classes, ), smooth / (num_classes - 1), dtype=row.dtype)
        target[labels[i]] = 1.0 - smooth
        num = (beta * target * log_prob[:num_classes]).sum()
        weight = beta * target.sum()
        for j in range(len(features)):
            if j != i and labels[j] == labels[i]:
                num = num + alpha * log_prob[num_classes + j]
                weight = weight + alpha
        total = total - (temperature / base_temperature) * num / weight
    return total / num_anchors


def prior_of(counts=COUNTS):
    counts = torch.tensor(counts, dtype=torch.float64)
    return counts / counts.sum()


def paco_inputs(batch=6, queue=8, dim=5, seed=0, queue_labels=None):
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([0, 0, 1, 2, 0, 3, 1, 2][:batch])
    q = unit(batch, dim, generator=g).requires_grad_()
    k = unit(batch, dim, generator=g).requires_grad_()
    queue_feats = unit(queue, dim, generator=g)
    if queue_labels is None:
        queue_labels = torch.randint(0, len(COUNTS), (queue, ), generator=g)
    cls_score = torch.randn(batch, len(COUNTS), generator=g, dtype=torch.float64).requires_grad_()
    return q, k, queue_feats, queue_labels, labels, cls_score


def grads(loss, *tensors):
    return torch.autograd.grad(loss, tensors)


@pytest.mark.parametrize('temperature,alpha,beta,gamma', [(0.2, 0.05, 1.0, 1.0), (0.07, 0.05, 1.0, 1.0),
                                                          (0.05, 0.01, 1.0, 1.0), (0.3, 0.5, 0.7, 0.4)])
def test_paco_loss_equals_the_official_formula(temperature, alpha, beta, gamma):
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    loss_fn = MODELS.build(dict(type='PaCoLoss', class_stats=stats(), temperature=temperature, alpha=alpha, beta=beta,
                                gamma=gamma))
    ours = loss_fn(q, k, queue_feats, queue_labels, labels, cls_score)['loss_paco']
    assert ours.dtype == torch.float32
    features = torch.cat([q, k, queue_feats])
    all_labels = torch.cat([labels, labels, queue_labels])
    ref = official_paco(features, all_labels, cls_score, prior_of(), temperature, alpha, beta, gamma)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    for g_ours, g_ref in zip(grads(ours, q, k, cls_score), grads(ref, q, k, cls_score)):
        torch.testing.assert_close(g_ours.double(), g_ref, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('smooth', [0.0, 0.1])
def test_gpaco_loss_equals_the_official_formula_with_both_views_anchors(smooth):
    q, k, queue_feats, queue_labels, labels, _ = paco_inputs(seed=1)
    cls_score = torch.randn(2 * len(labels), len(COUNTS), dtype=torch.float64, requires_grad=True)
    loss_fn = MODELS.build(dict(type='GPaCoLoss', class_stats=stats(), alpha=0.045, smooth=smooth))
    ours = loss_fn(q, k, queue_feats, queue_labels, labels, cls_score)['loss_gpaco']
    features = torch.cat([q, k, queue_feats])
    all_labels = torch.cat([labels, labels, queue_labels])
    ref = official_paco(features, all_labels, cls_score, prior_of(), 0.2, 0.045, smooth=smooth)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    for g_ours, g_ref in zip(grads(ours, q, k, cls_score), grads(ref, q, k, cls_score)):
        torch.testing.assert_close(g_ours.double(), g_ref, rtol=1e-4, atol=1e-6)


def test_base_temperature_scales_the_loss():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    kw = dict(type='PaCoLoss', class_stats=stats(), temperature=0.1)
    plain = MODELS.build(kw)(q, k, queue_feats, queue_labels, labels, cls_score)['loss_paco']
    scaled = MODELS.build(dict(kw, base_temperature=0.05))(q, k, queue_feats, queue_labels, labels, cls_score)
    assert scaled['loss_paco'].item() == pytest.approx(2 * plain.item(), rel=1e-6)


# ------------------------------------------------------------------ reductions

def test_alpha_gamma_zero_beta_one_is_balanced_softmax_exactly():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    loss_fn = MODELS.build(dict(type='PaCoLoss', class_stats=stats(), alpha=0.0, beta=1.0, gamma=0.0))
    ours = loss_fn(q, k, queue_feats, queue_labels, labels, cls_score)['loss_paco']
    balanced = MODELS.build(dict(type='BalancedSoftmaxLoss', class_stats=stats()))(cls_score, labels)
    assert ours.item() == pytest.approx(balanced.item(), rel=1e-6)
    g_ours = torch.autograd.grad(ours, (cls_score, q, k), allow_unused=True)
    torch.testing.assert_close(g_ours[0], grads(balanced, cls_score)[0].double(), rtol=1e-5, atol=1e-7)
    assert all(g is None or not g.any() for g in g_ours[1:])  # the samples take no part


def test_no_prior_is_cross_entropy():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    loss_fn = MODELS.build(dict(type='PaCoLoss', class_stats=stats(), alpha=0.0, gamma=0.0, use_prior=False))
    ours = loss_fn(q, k, queue_feats, queue_labels, labels, cls_score)['loss_paco']
    assert ours.item() == pytest.approx(F.cross_entropy(cls_score, labels).item(), rel=1e-6)


def test_gamma_zero_removes_the_samples_from_the_denominator():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    alpha = 0.3
    ours = paco_loss(cls_score, torch.cat([q, k, queue_feats]), torch.cat([labels, labels, queue_labels]), 0.2, alpha,
                     gamma=0.0, log_prior=prior_of().log())
    # by hand: log p over the centres only for every column, samples included
    log_z = torch.logsumexp(cls_score + prior_of().log(), dim=1)
    features = torch.cat([q, k, queue_feats])
    all_labels = torch.cat([labels, labels, queue_labels])
    expected = 0.0
    for i in range(len(labels)):
        centre = cls_score[i, labels[i]] + prior_of().log()[labels[i]] - log_z[i]
        pos = [j for j in range(len(features)) if j != i and all_labels[j] == labels[i]]
        samples = sum(features[i] @ features[j] / 0.2 - log_z[i] for j in pos)
        expected = expected - (centre + alpha * samples) / (1.0 + alpha * len(pos))
    assert ours.item() == pytest.approx((expected / len(labels)).item(), rel=1e-5)


# ------------------------------------------------------------------ edge cases

def test_a_class_with_one_sample_has_its_key_as_only_sample_positive():
    """Class 3 appears once in the batch and not in the queue: its anchor's positives are its centre (beta) and its
    own key (alpha), normaliser beta + alpha."""
    labels = torch.tensor([0, 0, 3])
    queue_labels = torch.tensor([0, 1, 1, 2])
    q, k, queue_feats = unit(3, 4), unit(3, 4), unit(4, 4)
    cls_score = torch.randn(3, 4, dtype=torch.float64)
    alpha, temperature = 0.5, 0.2
    loss_fn = MODELS.build(dict(type='PaCoLoss', class_stats=stats(), alpha=alpha, temperature=temperature))
    features = torch.cat([q, k, queue_feats])
    per_anchor = []
    for anchors in ([0], [1], [2]):  # the loss of each anchor alone: its own label and columns
        i = anchors[0]
        logits = torch.cat([cls_score[i] + prior_of().log(), features[i] @ features.t() / temperature])
        mask = torch.ones_like(logits, dtype=torch.bool)
        mask[len(COUNTS) + i] = False
        log_prob = logits - torch.logsumexp(logits[mask], dim=0)
        pos = [j for j in range(len(features)) if j != i and torch.cat([labels, labels, queue_labels])[j] == labels[i]]
        per_anchor.append(-(log_prob[labels[i]] + alpha * log_prob[len(COUNTS) + torch.tensor(pos)].sum())
                          / (1.0 + alpha * len(pos)))
    assert len([j for j in range(len(features)) if j != 2 and torch.cat([labels, labels, queue_labels])[j] == 3]) == 1
    ours = loss_fn(q, k, queue_feats, queue_labels, labels, cls_score)['loss_paco']
    assert ours.item() == pytest.approx(torch.stack(per_anchor).mean().item(), rel=1e-5)


def test_empty_queue_at_the_start_is_only_in_the_denominator():
    """An all -1 queue (LabelledQueue's start): no positive there, every slot in the denominator (official: random
    labels, so ours equals the official formula with labels no anchor has)."""
    q, k, queue_feats, _, labels, cls_score = paco_inputs(queue_labels=torch.full((8, ), -1))
    queue_labels = torch.full((8, ), -1)
    ours = MODELS.build(dict(type='PaCoLoss', class_stats=stats()))(q, k, queue_feats, queue_labels, labels,
                                                                      cls_score)['loss_paco']
    features = torch.cat([q, k, queue_feats])
    ref = official_paco(features, torch.cat([labels, labels, torch.full((8, ), 99)]), cls_score, prior_of(), 0.2, 0.05)
    assert torch.isfinite(ours) and ours.item() == pytest.approx(ref.item(), rel=1e-5)
    # no queue at all differs: the empty slots still count in the denominator
    no_queue = MODELS.build(dict(type='PaCoLoss', class_stats=stats()))(q, k, queue_feats[:0], queue_labels[:0],
                                                                         labels, cls_score)['loss_paco']
    assert no_queue.item() < ours.item()


def test_fp16_inputs_give_a_float32_loss():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    loss_fn = MODELS.build(dict(type='GPaCoLoss', class_stats=stats(), temperature=0.07))
    half = [t.detach().half() for t in (q, k, queue_feats)]
    score = torch.cat([cls_score, cls_score]).detach().half().requires_grad_()
    out = loss_fn(*half, queue_labels, labels, score)['loss_gpaco']
    assert out.dtype == torch.float32 and torch.isfinite(out)
    ref = loss_fn(*[t.float() for t in half], queue_labels, labels, score.float())['loss_gpaco']
    assert out.item() == pytest.approx(ref.item(), rel=1e-6)
    out.backward()
    assert score.grad.dtype == torch.float16 and torch.isfinite(score.grad).all()


def test_errors_name_the_value():
    q, k, queue_feats, queue_labels, labels, cls_score = paco_inputs()
    with pytest.raises(ValueError, match=r'must be \(6, 4\)'):
        MODELS.build(dict(type='PaCoLoss', class_stats=stats()))(q, k, queue_feats, queue_labels, labels,
                                                                 cls_score[:, :3])
    with pytest.raises(ValueError, match=r'must be \(12, 4\)'):  # GPaCo needs both views' logits
        MODELS.build(dict(type='GPaCoLoss', class_stats=stats()))(q, k, queue_feats, queue_labels, labels, cls_score)
    with pytest.raises(ValueError, match='needs the classifier logits'):
        MODELS.build(dict(type='PaCoLoss', class_stats=stats()))(q, k, queue_feats, queue_labels, labels, None)
    with pytest.raises(ValueError, match='num_classes|classes'):
        MODELS.build(dict(type='PaCoLoss', class_stats=stats(), num_classes=5))
    with pytest.raises(ValueError, match='2'):  # a class without training images: log pi undefined
        MODELS.build(dict(type='PaCoLoss', class_stats=stats([5, 3, 0, 1])))
    with pytest.raises(ValueError, match='alpha'):
        MODELS.build(dict(type='PaCoLoss', class_stats=stats(), alpha=-0.1))
    with pytest.raises(ValueError, match='temperature'):
        MODELS.build(dict(type='PaCoLoss', class_stats=stats(), temperature=0.0))
    with pytest.raises(ValueError, match=r'anchor labels must be in \[0, 4\)'):
        paco_loss(cls_score, torch.cat([q, k]), torch.cat([labels, labels]).clone().fill_(-1), 0.2, 0.05)


# ------------------------------------------------------------------ schedules

def official_paco_lt_lr(lr, epoch, epochs=400, warmup=10):
    """``PaCo/LT/paco_lt.py`` ``adjust_learning_rate`` (cosine branch)."""
    if epoch < warmup:
        return lr / warmup * (epoch + 1)
    return lr * 0.5 * (1. + math.cos(math.pi * (epoch - warmup + 1) / (epochs - warmup + 1)))


def official_paco_cifar_lr(lr, epoch, warmup=10):
    """``PaCo/LT/paco_cifar.py`` ``adjust_learning_rate``."""
    if epoch <= warmup:
        return lr / warmup * (epoch + 1)
    if epoch > 360:
        return lr * 0.01
    if epoch > 320:
        return lr * 0.1
    return lr


def scheduled_lrs(scheduler_cfg, base, epochs):
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import PARAM_SCHEDULERS

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    wrapper = OptimWrapper(optimizer)
    scheduler = PARAM_SCHEDULERS.build(dict(scheduler_cfg), default_args=dict(optimizer=wrapper))
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        wrapper.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize('config,official', [
    ('paco/paco_resnet50_4xb32_imagenet-lt_400e.py', official_paco_lt_lr),
    ('gpaco/gpaco_resnet50_4xb32_imagenet-lt_400e.py', official_paco_lt_lr),
    ('paco/paco_resnet32_1xb128_cifar100-lt-if100_400e.py', official_paco_cifar_lr)])
def test_config_lr_schedules_are_the_official_ones(config, official):
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / 'configs' / config))
    base = cfg.optim_wrapper.optimizer.lr
    ours = scheduled_lrs(cfg.param_scheduler, base, cfg.train_cfg.max_epochs)
    np.testing.assert_allclose(ours, [official(base, e) for e in range(400)], rtol=1e-12)


def test_step_factor_and_scheduler_errors():
    assert [paco_warmup_step_factor(e) for e in (0, 9, 10, 11, 320, 321, 360, 361, 399)] == \
        pytest.approx([0.1, 1.0, 1.1, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    assert paco_warmup_cosine_factor(10, 400) == pytest.approx(0.5 * (1 + math.cos(math.pi / 391)))
    with pytest.raises(ValueError, match='by_epoch'):
        scheduled_lrs(dict(type='PaCoWarmupStepLR', by_epoch=False), 0.1, 1)
    with pytest.raises(ValueError, match='milestone'):
        scheduled_lrs(dict(type='PaCoWarmupStepLR', milestones=(5, ), by_epoch=True), 0.1, 1)


# ------------------------------------------------------------------ augmentation

def test_floor_posterize_keeps_the_official_bit_count():
    from mmpretrain.registry import TRANSFORMS

    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    ours = TRANSFORMS.build(dict(type='FloorPosterize', prob=1.0, magnitude_range=(0, 4), magnitude_level=9))
    mmpretrain_op = TRANSFORMS.build(dict(type='Posterize', prob=1.0, magnitude_range=(0, 4), magnitude_level=9))
    # m = 9: the official PosterizeTpu keeps int(4 * 9 / 10) = 3 bits; mmpretrain's rounds up to 4
    assert np.array_equal(ours(dict(img=img.copy()))['img'], img & 0b11100000)
    assert np.array_equal(mmpretrain_op(dict(img=img.copy()))['img'], img & 0b11110000)


def official_level_to_arg(name, m):
    """``randaugment.py``'s level -> argument maps of the 15 ops of ``_RAND_TRANSFORMS`` (no sign)."""
    return {'Rotate': 30. * m / 10, 'PosterizeTpu': int(4 * m / 10), 'Solarize': int(256 * m / 10),
            'SolarizeAdd': int(110 * m / 10), 'Color': 1.8 * m / 10 + 0.1, 'Contrast': 1.8 * m / 10 + 0.1,
            'Brightness': 1.8 * m / 10 + 0.1, 'Sharpness': 1.8 * m / 10 + 0.1, 'ShearX': 0.3 * m / 10,
            'ShearY': 0.3 * m / 10, 'TranslateXRel': 0.45 * m / 10, 'TranslateYRel': 0.45 * m / 10}.get(name)


def test_randaugment_policy_matches_the_official_ops():
    """configs/_base_/datasets/paco_augmentation.py's RandAugment: the 15 official ops, each with probability 0.5,
    magnitude ~ N(M, 0.5) clipped to [0, 10], and the official argument at every magnitude (mmpretrain's enhance
    factor is 1 + magnitude)."""
    from mmengine.config import Config
    from mmpretrain.registry import TRANSFORMS

    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / 'paco_augmentation.py'))
    randaug = [t for t in cfg.randcls_view if t['type'] == 'RandAugment'][0]
    built = TRANSFORMS.build(randaug)
    assert (randaug['num_policies'], randaug['magnitude_level'], randaug['magnitude_std']) == (2, 10, 0.5)
    ours = {}
    for policy, op in zip(built.policies, built.transforms):
        assert op.prob == 0.5, policy
        name = policy['type'] + ('' if 'direction' not in policy else '-' + policy['direction'])
        ours[name] = (policy, op)
    official = {'AutoContrast': 'AutoContrast', 'Equalize': 'Equalize', 'Invert': 'Invert', 'Rotate': 'Rotate',
                'FloorPosterize': 'PosterizeTpu', 'Solarize': 'Solarize', 'SolarizeAdd': 'SolarizeAdd',
                'ColorTransform': 'Color', 'Contrast': 'Contrast', 'Brightness': 'Brightness',
                'Sharpness': 'Sharpness', 'Shear-horizontal': 'ShearX', 'Shear-vertical': 'ShearY',
                'Translate-horizontal': 'TranslateXRel', 'Translate-vertical': 'TranslateYRel'}
    assert set(ours) == set(official)
    for name, (policy, built_op) in ours.items():
        if 'magnitude_range' not in policy:
            continue
        low, high = policy['magnitude_range']
        for m in (0.0, 2.5, 7.5, 9.3, 10.0):
            op = official[name]
            value = m / 10 * (high - low) + low
            if op in ('Color', 'Contrast', 'Brightness', 'Sharpness'):
                value += 1.0  # mmpretrain's factor
                assert built_op.random_negative_prob == 0.0, name
            elif op in ('Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'):
                assert built_op.random_negative_prob == 0.5, name
            if op == 'PosterizeTpu':
                value = math.floor(value)
            elif op == 'SolarizeAdd':
                value = int(value)  # mmpretrain adds the float, then casts the uint8 image: truncated
            tolerance = 1.0 if op == 'Solarize' else 1e-9  # a float threshold: under one grey level from int()
            assert value == pytest.approx(official_level_to_arg(op, m), abs=tolerance), (name, m)


# ------------------------------------------------------------------ the model (QueueContrastClassifier)

def lenet_model(loss='PaCoLoss', momentum=0.999, queue_size=16, **loss_kw):
    norm = dict(type='BN1d') if momentum is not None else None
    neck = (120, 120, 16) if momentum is not None else (120, 120, 120, 16)
    return MODELS.build(dict(
        type='QueueContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
        neck=dict(type='MLPNeck', channels=neck, norm_cfg=norm),
        head=dict(type='LinearClsHead', num_classes=len(COUNTS), in_channels=120, init_cfg=None),
        contrast_loss=dict(type=loss, class_stats=stats(), **loss_kw), queue_size=queue_size, feat_dim=16,
        momentum=momentum, data_preprocessor=dict(mean=[0.0], std=[1.0])))


def view_batch(n=8, seed=0):
    from mmpretrain.structures import DataSample

    g = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, 1, 32, 32, generator=g) for _ in range(2)]
    labels = torch.tensor([0, 0, 1, 2, 0, 3, 1, 0][:n])
    return views, [DataSample().set_gt_label(int(y)) for y in labels], labels


def encode(model, x):
    pooled = model.extract_feat(x)
    return F.normalize(model.neck(pooled)[-1], dim=1), model.head(pooled)


def test_paco_model_loss_is_the_formula_on_its_own_features():
    torch.manual_seed(0)
    model = lenet_model(temperature=0.1, alpha=0.2)
    model.train()
    views, samples, labels = view_batch()
    queue_feats, queue_labels = model.queue.feats.clone(), model.queue.labels.clone()
    loss = model.loss(views, samples)['loss_paco']
    # first step: the key encoder is a copy of the query encoder (train-mode BatchNorm: batch statistics)
    q, cls_score = encode(model, views[0])
    with torch.no_grad():
        k, _ = encode(model, views[1])
    expected = paco_loss(cls_score, torch.cat([q, k, queue_feats]), torch.cat([labels, labels, queue_labels]), 0.1,
                         0.2, log_prior=prior_of().log().float())
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert model.queue.labels.tolist() == labels.tolist() + [-1] * 8


def test_gpaco_model_has_no_key_encoder_and_backpropagates_through_both_views():
    torch.manual_seed(0)
    model = lenet_model('GPaCoLoss', momentum=None, alpha=0.3)
    assert model.momentum_encoder is None
    model.train()
    views, samples, labels = view_batch()
    queue_feats, queue_labels = model.queue.feats.clone(), model.queue.labels.clone()
    loss = model.loss(views, samples)['loss_gpaco']
    ours = torch.autograd.grad(loss, list(model.parameters()))
    q, cls_q = encode(model, views[0])
    k, cls_k = encode(model, views[1])
    expected = paco_loss(torch.cat([cls_q, cls_k]), torch.cat([q, k, queue_feats]),
                         torch.cat([labels, labels, queue_labels]), 0.2, 0.3, log_prior=prior_of().log().float())
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    ref = torch.autograd.grad(expected, list(model.parameters()), retain_graph=True)
    for g_ours, g_ref in zip(ours, ref):
        torch.testing.assert_close(g_ours, g_ref, rtol=1e-4, atol=1e-6)
    key_only = torch.autograd.grad(paco_loss(torch.cat([cls_q, cls_k]).detach(), torch.cat([q.detach(), k,
                                                                                            queue_feats]),
                                             torch.cat([labels, labels, queue_labels]), 0.2, 0.3),
                                   model.backbone.parameters())
    assert any(g.abs().sum() > 0 for g in key_only)  # the key view trains the encoder
    torch.testing.assert_close(model.queue.feats[:8], k.detach())


def test_state_through_a_checkpoint_queue_and_key_encoder(tmp_path):
    torch.manual_seed(0)
    model = lenet_model()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):  # 24 keys into a queue of 16: wrapped around
        optimizer.zero_grad()
        model.loss(*view_batch(seed=step)[:2])['loss_paco'].backward()
        optimizer.step()
    assert int(model.queue.ptr) == 8 and int(model.momentum_encoder.steps) == 3
    torch.save(model.state_dict(), tmp_path / 'ckpt.pth')
    torch.manual_seed(1)
    resumed = lenet_model()
    resumed.train()
    resumed.load_state_dict(torch.load(tmp_path / 'ckpt.pth'))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, msg=name)
    assert int(resumed.momentum_encoder.steps) == 3
    key_params = dict(model.momentum_encoder.module.named_parameters())
    query_params = dict(model._query_encoder().named_parameters())
    assert any(not torch.equal(p, query_params[n]) for n, p in key_params.items())  # the EMA, not a copy
    views, samples, _ = view_batch(seed=7)
    torch.testing.assert_close(resumed.loss(views, samples)['loss_paco'], model.loss(views, samples)['loss_paco'])
    torch.testing.assert_close(resumed.queue.feats, model.queue.feats)


# ------------------------------------------------------------------ Digits-LT on CPU

@pytest.mark.slow
@pytest.mark.parametrize('config', ['paco/paco_lenet_1xb32_digits-lt_30e.py', 'gpaco/gpaco_lenet_1xb32_digits-lt_30e.py'])
def test_digits_lt_config_trains(cls_workspace, tmp_path, monkeypatch, config):
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(str(REPO / 'configs' / config), tmp_path / 'smoke')
    assert math.isfinite(loss)
    model = runner.model
    assert type(model).__name__ == 'QueueContrastClassifier'
    assert (model.momentum_encoder is None) == config.startswith('gpaco')
    assert int(model.queue.ptr) == 64 and (model.queue.labels[:64] >= 0).all() and (model.queue.labels[64:] == -1).all()
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
