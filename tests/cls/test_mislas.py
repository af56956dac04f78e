"""MiSLAS (Zhong et al., CVPR 2021): label-aware smoothing against a naive transcription of the official
``methods.py`` (every shape, value and gradient), hand-checked per-class epsilons, errors; LWS as the official
``LearnableWeightScaling``; stage-1 mixup as the official ``mixup_data`` / ``mixup_criterion``; the configs' schedules,
learning-rate groups and epoch lengths against the official training scripts; and, on Digits-LT (CPU), the shifted
BatchNorm of stage 2 (which statistics move, which parameters stay frozen), the loading of the stage-1 classifier and
the two-stage configs training a couple of iterations."""
import copy
import math
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import LabelAwareSmoothingLoss
from ltmm.cls.losses.label_aware_smoothing_loss import label_aware_epsilons
from ltmm.engine import build_runner

from ..helpers import REPO
from .test_decoupled import digits_config

COUNTS = [500, 120, 40, 9, 1]
SHAPES = [('concave', None), ('linear', None), ('convex', None), ('exp', 0.5), ('exp', 2.0)]
MISLAS = REPO / 'configs' / 'mislas'


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def data(n=8, c=len(COUNTS), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 3, torch.randint(0, c, (n,), generator=g)


# ------------------------------------------------------------ naive transcription of dvlab-research/MiSLAS methods.py

def official_smooth(cls_num_list, smooth_head, smooth_tail, shape='concave', power=None) -> torch.Tensor:
    """``LabelAwareSmoothing.__init__``: numpy in float64, then ``.float()``."""
    n_1, n_k = max(cls_num_list), min(cls_num_list)
    counts = np.array(cls_num_list)
    if shape == 'concave':
        smooth = smooth_tail + (smooth_head - smooth_tail) * np.sin((counts - n_k) * np.pi / (2 * (n_1 - n_k)))
    elif shape == 'linear':
        smooth = smooth_tail + (smooth_head - smooth_tail) * (counts - n_k) / (n_1 - n_k)
    elif shape == 'convex':
        smooth = smooth_head + (smooth_head - smooth_tail) * np.sin(1.5 * np.pi + (counts - n_k) * np.pi /
                                                                    (2 * (n_1 - n_k)))
    elif shape == 'exp' and power is not None:
        smooth = smooth_tail + (smooth_head - smooth_tail) * np.power((counts - n_k) / (n_1 - n_k), power)
    return torch.from_numpy(smooth).float()


def official_las(x, target, smooth):
    """``LabelAwareSmoothing.forward``."""
    smoothing = smooth[target]
    confidence = 1. - smoothing
    logprobs = F.log_softmax(x, dim=-1)
    nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
    smooth_loss = -logprobs.mean(dim=-1)
    return (confidence * nll_loss + smoothing * smooth_loss).mean()


def official_mixup_data(x, y, alpha):
    """``mixup_data`` (on CPU)."""
    lam = np.random.beta(alpha, alpha) if alpha > 0 else 1
    index = torch.randperm(x.size()[0])
    return lam * x + (1 - lam) * x[index, :], y, y[index], lam


def official_mixup_criterion(criterion, pred, y_a, y_b, lam):
    return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)


# ------------------------------------------------------------ label-aware smoothing

@pytest.mark.parametrize('shape,power', SHAPES)
@pytest.mark.parametrize('head_tail', [(0.4, 0.1), (0.3, 0.0), (0.1, 0.3)])
def test_las_matches_the_official_formula(shape, power, head_tail):
    smooth_head, smooth_tail = head_tail
    loss = LabelAwareSmoothingLoss(stats(COUNTS), num_classes=5, smooth_head=smooth_head, smooth_tail=smooth_tail,
                                   shape=shape, power=power)
    smooth = official_smooth(COUNTS, smooth_head, smooth_tail, shape, power)
    torch.testing.assert_close(loss.epsilons, smooth, rtol=0, atol=1e-7)
    logits, label = data(n=16)
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours, ref = loss(a, label, avg_factor=16), official_las(b, label, smooth)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('shape,power,middle', [('concave', None, 0.1 + 0.3 * 0.5), ('linear', None, 0.1 + 0.3 / 3),
                                                ('convex', None, 0.4 - 0.3 * math.cos(math.pi / 6)),
                                                ('exp', 2.0, 0.1 + 0.3 / 9)])
def test_epsilons_by_hand(shape, power, middle):
    """Counts (8, 4, 2, 2): t = (1, 1/3, 0, 0); the head gets smooth_head, both tail classes smooth_tail."""
    eps = label_aware_epsilons([8, 4, 2, 2], smooth_head=0.4, smooth_tail=0.1, shape=shape, power=power)
    assert eps.dtype == torch.float32
    torch.testing.assert_close(eps, torch.tensor([0.4, middle, 0.1, 0.1]), rtol=0, atol=1e-7)


def test_las_value_by_hand():
    # C = 2, logits (0, log 3): p = (1/4, 3/4); class 0 is the tail (count 1), class 1 the head (count 3)
    loss = LabelAwareSmoothingLoss(stats([1, 3]), smooth_head=0.4, smooth_tail=0.1)
    z = torch.tensor([[0.0, math.log(3.0)]])
    mean_nll = (math.log(4) + math.log(4 / 3)) / 2
    assert loss(z, torch.tensor([0])).item() == pytest.approx(0.9 * math.log(4) + 0.1 * mean_nll)
    assert loss(z, torch.tensor([1])).item() == pytest.approx(0.6 * math.log(4 / 3) + 0.4 * mean_nll)
    # uniform logits: -log p_j = log C for every j, whatever the smoothing
    assert loss(torch.zeros(3, 2), torch.tensor([0, 1, 1])).item() == pytest.approx(math.log(2))


def test_las_mixup_is_the_official_mixup_criterion():
    loss = LabelAwareSmoothingLoss(stats(COUNTS), smooth_head=0.4, smooth_tail=0.1)
    smooth = official_smooth(COUNTS, 0.4, 0.1)
    logits, y_a = data(n=8)
    y_b = y_a[torch.randperm(8, generator=torch.Generator().manual_seed(3))]
    lam = 0.3
    soft = lam * F.one_hot(y_a, 5).float() + (1 - lam) * F.one_hot(y_b, 5).float()
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours = loss(a, soft, avg_factor=8)
    ref = official_mixup_criterion(lambda p, t: official_las(p, t, smooth), b, y_a, y_b, lam)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(a.grad, b.grad)


def test_las_reductions_weights_and_absent_classes():
    loss = LabelAwareSmoothingLoss(stats(COUNTS), smooth_head=0.4, smooth_tail=0.1, loss_weight=2.0)
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(1), requires_grad=True)
    label = torch.tensor([0, 0, 1, 1, 0, 1])  # classes 2, 3, 4 absent from the batch
    per_sample = loss(logits, label, reduction_override='none')
    assert per_sample.shape == (6,)
    torch.testing.assert_close(loss(logits, label), per_sample.mean())
    torch.testing.assert_close(loss(logits, label, reduction_override='sum'), per_sample.sum())
    weight = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    torch.testing.assert_close(loss(logits, label, weight=weight, avg_factor=4), 2 * per_sample[weight > 0].sum() / 8)
    loss(logits, label).backward()
    # the smoothing term pulls on every logit, the absent classes' too
    assert torch.isfinite(logits.grad).all() and (logits.grad[:, 2:].abs() > 0).all()


def test_las_state_is_rebuilt_from_class_stats():
    """The epsilons are a function of class_stats and the arguments: not in checkpoints, identical after a round
    trip, moved with the module."""
    cfg = dict(type='LinearClsHead', num_classes=5, in_channels=3,
               loss=dict(type='LabelAwareSmoothingLoss', class_stats=stats(COUNTS), smooth_head=0.4,
                         smooth_tail=0.1, shape='convex'))
    head = MODELS.build(copy.deepcopy(cfg))
    state = head.state_dict()
    assert not any('epsilons' in k or 'class_counts' in k for k in state)
    restored = MODELS.build(copy.deepcopy(cfg))
    restored.load_state_dict(state)
    torch.testing.assert_close(restored.loss_module.epsilons, head.loss_module.epsilons)
    assert head.loss_module.num_classes == 5  # the head filled in num_classes and the loss checked it
    assert head.to(torch.float64).loss_module.epsilons.dtype == torch.float64


def test_las_errors():
    with pytest.raises(ValueError, match="shape must be one of .*'cubic'"):
        LabelAwareSmoothingLoss(stats(COUNTS), shape='cubic')
    with pytest.raises(ValueError, match="shape='exp' needs a power > 0, got power=None"):
        LabelAwareSmoothingLoss(stats(COUNTS), shape='exp')
    with pytest.raises(ValueError, match='power=0'):
        LabelAwareSmoothingLoss(stats(COUNTS), shape='exp', power=0)
    with pytest.raises(ValueError, match="power is only used by shape='exp'"):
        LabelAwareSmoothingLoss(stats(COUNTS), shape='linear', power=2.0)
    with pytest.raises(ValueError, match='smooth_head must be in'):
        LabelAwareSmoothingLoss(stats(COUNTS), smooth_head=1.5)
    with pytest.raises(ValueError, match='smooth_tail must be in'):
        LabelAwareSmoothingLoss(stats(COUNTS), smooth_tail=-0.1)
    with pytest.raises(ValueError, match='class index 2'):  # a class without training images
        LabelAwareSmoothingLoss(stats([5, 3, 0]))
    with pytest.raises(ValueError, match=r'class index \[1\] has \[0\]'):  # the function, directly
        label_aware_epsilons([4, 0, 2], 0.3, 0.0)
    with pytest.raises(ValueError, match='every class has 7 images'):  # balanced: the official code gives NaN
        LabelAwareSmoothingLoss(stats([7, 7, 7]))
    with pytest.raises(ValueError, match='4 classes'):
        LabelAwareSmoothingLoss(stats([5, 3, 2, 1]), num_classes=3)
    loss = LabelAwareSmoothingLoss(stats([5, 3, 2, 1]))
    with pytest.raises(ValueError, match=r'shape \(2, 3\)'):
        loss(torch.zeros(2, 3), torch.tensor([0, 1]))


# ------------------------------------------------------------ LWS and stage-1 mixup as the official code

def test_lws_head_is_the_official_learnable_weight_scaling():
    """``LWSClsHead(train_fc=True)``: ``learned_norm * classifier(feat)`` with both trained (train_stage2.py)."""
    head = MODELS.build(dict(type='LWSClsHead', num_classes=4, in_channels=3, train_fc=True))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        head.scales.copy_(torch.rand(4, generator=g) + 0.5)
    fc = torch.nn.Linear(3, 4)
    fc.load_state_dict(head.fc.state_dict())
    learned_norm = torch.nn.Parameter(head.scales.detach().clone().view(1, 4))  # official shape (1, C)
    feat = torch.randn(5, 3, generator=g)
    ours, ref = head((feat,)), learned_norm * fc(feat)
    torch.testing.assert_close(ours, ref)
    ours.square().sum().backward()
    ref.square().sum().backward()
    torch.testing.assert_close(head.scales.grad, learned_norm.grad.view(4))
    torch.testing.assert_close(head.fc.weight.grad, fc.weight.grad)
    torch.testing.assert_close(head.fc.bias.grad, fc.bias.grad)


def test_stage1_mixup_is_the_official_mixup():
    """The stage-1 model always applies mmpretrain's Mixup (the only batch augment, no identity option), which draws
    lambda and the pairing as the official ``mixup_data`` (same generators, same order); the soft cross-entropy on its
    mixed labels is ``mixup_criterion(CrossEntropyLoss)``."""
    cfg = Config.fromfile(str(MISLAS / 'stage1-mixup_resnet32_1xb128_cifar100-lt-if100_200e.py'))
    model = MODELS.build(cfg.model)
    batch_augments = model.data_preprocessor.batch_augments
    assert len(batch_augments.augments) == 1 and batch_augments.probs is None
    mixup = batch_augments.augments[0]
    assert (type(mixup).__name__, mixup.alpha) == ('Mixup', 1.0)
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    np.random.seed(7)
    torch.manual_seed(7)
    mixed, score = mixup(x, F.one_hot(y, 100))
    np.random.seed(7)
    torch.manual_seed(7)
    ref_x, y_a, y_b, lam = official_mixup_data(x, y, alpha=1.0)
    torch.testing.assert_close(mixed, ref_x)
    pred = torch.randn(6, 100, generator=torch.Generator().manual_seed(1))
    ours = model.head.loss_module(pred, score, avg_factor=6)
    ref = official_mixup_criterion(torch.nn.CrossEntropyLoss(), pred, y_a, y_b, lam)
    torch.testing.assert_close(ours, ref)


# ------------------------------------------------------------ recipes against the official scripts

def scheduled_lrs(cfg: Config, epochs: int) -> List[Dict[str, float]]:
    """The lr of ``head.fc.weight``, ``head.fc.bias`` and ``head.scales`` at each epoch, as mmengine's
    ParamSchedulerHook steps the configured by-epoch schedulers over an optimizer built from ``cfg.optim_wrapper``."""
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import PARAM_SCHEDULERS

    module = torch.nn.Module()
    module.head = torch.nn.Module()
    module.head.fc = torch.nn.Linear(1, 1)
    module.head.scales = torch.nn.Parameter(torch.ones(3))
    wrapper = build_optim_wrapper(module, copy.deepcopy(cfg.optim_wrapper))
    scheds = cfg.param_scheduler if isinstance(cfg.param_scheduler, list) else [cfg.param_scheduler]
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper.optimizer)) for s in copy.deepcopy(scheds)]
    names = {id(p): name for name, p in module.named_parameters()}
    out = []
    for _ in range(epochs):
        out.append({names[id(p)]: g['lr'] for g in wrapper.optimizer.param_groups for p in g['params']})
        for s in schedulers:
            s.step()
    return out


def official_stage1_lr(epoch: int, lr: float, epochs: int, cos: bool) -> float:
    """train_stage1.py ``adjust_learning_rate``."""
    if cos:
        return 0.5 * lr * (1 + math.cos(epoch / epochs * 3.1415926535))
    epoch = epoch + 1
    if epoch <= 5:
        return lr * epoch / 5
    if epoch > 180:
        return lr * 0.01
    if epoch > 160:
        return lr * 0.1
    return lr


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('config,lr,epochs,cos', [
    ('stage1-mixup_resnet32_1xb128_cifar100-lt-if100_200e.py', 0.1, 200, False),
    ('stage1-mixup_resnet50_4xb64_imagenet-lt_180e.py', 0.1, 180, True),
])
def test_stage1_schedule_is_the_official_one(config, lr, epochs, cos):
    cfg = Config.fromfile(str(MISLAS / config))
    assert cfg.train_cfg.max_epochs == epochs
    got = [lrs['head.scales'] for lrs in scheduled_lrs(cfg, epochs)]
    want = [official_stage1_lr(e, lr, epochs, cos) for e in range(epochs)]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('config,lr,lr_factor,wd,n_train,batch', [
    ('mislas_resnet32_1xb128_cifar100-lt-if100_10e.py', 0.1, 0.2, 2e-4, 10847, 128),
    ('mislas_resnet50_1xb256_imagenet-lt_10e.py', 0.1, 0.05, 5e-4, 115846, 256),
    ('mislas_resnext50-32x4d_1xb256_imagenet-lt_10e.py', 0.1, 0.05, 5e-4, 115846, 256),
    ('mislas_lenet_1xb32_digits-lt_10e.py', 0.05, 0.2, 5e-4, 347, 32),
])
def test_stage2_recipe_is_the_official_one(config, lr, lr_factor, wd, n_train, batch):
    """train_stage2.py: classifier at lr_factor x lr, the LWS scales at lr, weight decay on both, lr
    0.5 lr_max (1 + cos(pi e / 10)) per epoch, ceil(N / B) + 1 full class-aware batches per epoch."""
    cfg = Config.fromfile(str(MISLAS / config))
    for e, lrs in enumerate(scheduled_lrs(cfg, 10)):
        official = 0.5 * lr * (1 + math.cos(e / 10 * 3.1415926535))
        got = [lrs['head.fc.weight'], lrs['head.fc.bias'], lrs['head.scales']]
        np.testing.assert_allclose(got, [lr_factor * official] * 2 + [official], rtol=1e-6, atol=1e-12)
    assert cfg.optim_wrapper.optimizer.weight_decay == wd and 'decay_mult' not in str(cfg.optim_wrapper)
    assert cfg.train_dataloader.batch_size == batch
    sampler = cfg.train_dataloader.sampler
    assert sampler.type == 'ClassAwareSampler' and sampler.num_samples_cls == 4
    assert sampler.num_samples == (math.ceil(n_train / batch) + 1) * batch
    assert cfg.model.train_cfg is None  # no mixup in stage 2
    assert cfg.model.head.type == 'LWSClsHead' and cfg.model.head.train_fc
    assert cfg.custom_hooks == [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                                     reinit_head=False)]
    if 'cifar100' in config:  # the base's counts are the N of the epoch length
        assert sum(cfg.class_stats['image_count']) == n_train
        assert (cfg.model.head.loss.smooth_head, cfg.model.head.loss.smooth_tail) == (0.4, 0.1)


# ------------------------------------------------------------ Digits-LT: shifted BN, classifier loading, the chain

class Snapshot(Hook):
    """The model's state when training starts (after ``load_from``)."""

    def __init__(self) -> None:
        self.state: Dict[str, torch.Tensor] = {}

    def before_train(self, runner) -> None:
        self.state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def two_iterations(cfg: Config) -> Config:
    cfg.merge_from_dict({'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
                         'default_hooks.checkpoint': dict(type='CheckpointHook', interval=1, save_best=None),
                         'default_hooks.logger.interval': 1})
    sampler = cfg.train_dataloader.sampler
    if sampler.type == 'ClassAwareSampler':
        sampler.num_samples = 2 * cfg.train_dataloader.batch_size
    else:
        cfg.train_dataloader.dataset.indices = 2 * cfg.train_dataloader.batch_size
    return cfg


def run_stage2(root: Path, work_dir: Path, ckpt: Path, bn_mode: str = 'train',
               backbone: Optional[dict] = None) -> tuple:
    cfg = two_iterations(digits_config('configs/mislas/mislas_lenet_1xb32_digits-lt_10e.py', root, work_dir,
                                       load_from=str(ckpt)))
    cfg.custom_hooks[0].bn_mode = bn_mode
    if backbone is not None:
        cfg.model.backbone = backbone
        cfg.model.head.in_channels = 64
    runner = build_runner(cfg)
    snapshot = Snapshot()
    runner.register_hook(snapshot, priority='LOWEST')
    runner.train()
    return runner, snapshot.state


@pytest.fixture(scope='module')
def bn_stage1_ckpt(tmp_path_factory) -> Path:
    """A 'stage-1' checkpoint of the Digits-LT model with a BatchNorm backbone (ResNet-32, grayscale)."""
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='ResNet32CIFAR', in_channels=1),
                              neck=dict(type='GlobalAveragePooling'),
                              head=dict(type='LinearClsHead', num_classes=10, in_channels=64)))
    model.init_weights()
    with torch.no_grad():
        model.head.fc.bias.copy_(torch.linspace(-1, 1, 10))  # recognisable after loading
    path = tmp_path_factory.mktemp('bn_stage1') / 'stage1.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize('bn_mode', ['train', 'eval'])
def test_shifted_batchnorm(cls_workspace, bn_stage1_ckpt, tmp_path, bn_mode):
    """bn_mode='train' (official shift_bn: True): the frozen backbone's running mean / variance follow the
    class-balanced stage-2 batches (one update per iteration) while every parameter of the backbone, BatchNorm
    affine included, stays as loaded; bn_mode='eval' (shift_bn: False) keeps the stage-1 statistics too. The
    classifier is the loaded stage-1 one, and it and the scales train."""
    runner, start = run_stage2(cls_workspace, tmp_path, bn_stage1_ckpt, bn_mode,
                               backbone=dict(type='ResNet32CIFAR', in_channels=1))
    stage1 = torch.load(bn_stage1_ckpt, map_location='cpu', weights_only=False)['state_dict']
    end = runner.model.state_dict()
    params = {name for name, _ in runner.model.named_parameters()}
    for key, value in stage1.items():
        torch.testing.assert_close(start[key], value)  # everything loaded, the classifier included
    stats_keys = [k for k in stage1 if k.startswith('backbone') and ('running_' in k or 'num_batches' in k)]
    assert len(stats_keys) == 31 * 3  # stem + 15 blocks x 2 BatchNorms
    for key in stage1:
        if key.startswith('backbone') and key in params:  # conv weights, BN weight and bias: frozen
            torch.testing.assert_close(end[key], stage1[key], rtol=0, atol=0)
    for key in stats_keys:
        if bn_mode == 'eval':
            torch.testing.assert_close(end[key], stage1[key], rtol=0, atol=0)
        elif 'num_batches' in key:
            assert int(end[key]) == int(stage1[key]) + 2
        else:
            assert not torch.equal(end[key], stage1[key]), key
    assert not any(p.requires_grad for p in runner.model.backbone.parameters())
    assert not torch.equal(end['head.fc.weight'], stage1['head.fc.weight'])
    assert not torch.equal(end['head.scales'], torch.ones(10))


@pytest.mark.slow
def test_digits_two_stage_configs_train(cls_workspace, tmp_path):
    """The Digits-LT configs as written: stage 1 (mixup) trains two iterations and saves its checkpoint, stage 2
    loads it (backbone and classifier), trains two iterations with LAS and is evaluated."""
    stage1_cfg = two_iterations(digits_config('configs/mislas/stage1-mixup_lenet_1xb32_digits-lt_30e.py',
                                              cls_workspace, tmp_path / 'stage1'))
    stage1 = build_runner(stage1_cfg)
    assert type(stage1.model.data_preprocessor.batch_augments.augments[0]).__name__ == 'Mixup'
    stage1.train()
    loss = stage1.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    ckpt = tmp_path / 'stage1' / 'epoch_1.pth'
    state1 = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']

    runner, start = run_stage2(cls_workspace, tmp_path / 'stage2', ckpt)
    assert runner.model.data_preprocessor.batch_augments is None
    assert type(runner.model.head.loss_module).__name__ == 'LabelAwareSmoothingLoss'
    torch.testing.assert_close(runner.model.head.loss_module.epsilons[0], torch.tensor(0.2))  # the head class
    torch.testing.assert_close(runner.model.head.loss_module.epsilons[-1], torch.tensor(0.0))  # the tail class
    end = runner.model.state_dict()
    for key, value in state1.items():
        torch.testing.assert_close(start[key], value)  # stage 1 loaded, its classifier included
        if key.startswith('backbone'):
            torch.testing.assert_close(end[key], value, rtol=0, atol=0)  # frozen
    assert torch.equal(start['head.scales'], torch.ones(10))
    assert not torch.equal(end['head.fc.weight'], state1['head.fc.weight'])
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= runner.message_hub.get_scalar(f'val/{key}').current() <= 100.0
