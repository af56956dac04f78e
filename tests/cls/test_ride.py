"""RIDE loss: formula on hand-computable cases, gradients against a naive per-sample reference, the DRW switch, count
edge cases, and a CPU smoke of the Digits-LT RIDE config."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks.loss_epoch_hook import LossEpochHook, epoch_modules
from ltmm.cls.losses.ride_loss import diversity_temperatures, ride_loss_terms
from ltmm.core.reweighting import effective_number_weights

from ..helpers import REPO


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(counts, **kw):
    return MODELS.build(dict(type='RIDELoss', class_stats=stats(counts), **kw))


def naive_ride(expert_logits, target, counts, s, max_m, lam, f, t0, base_factor, class_weight):
    """Sample-by-sample transcription of RIDE's loss (frank-xwang/RIDE-LongTailRecognition model/loss.py)."""
    n = torch.tensor(counts, dtype=torch.float64)
    m = n.pow(-0.25)
    m = m * max_m / m.max()
    if class_weight is None:
        temp = torch.full_like(n, t0)
    else:
        t = len(counts) * n / n.sum() * f + 1 - f
        temp = t0 * t / t.max()
    N, K, C = expert_logits.shape
    mean = expert_logits.mean(dim=1)
    total = 0.0
    for k in range(K):
        z = mean if lam == 0 else expert_logits[:, k]
        num, den = 0.0, 0.0
        for i in range(N):
            y = int(target[i])
            zi = z[i].clone()
            zi = torch.cat([zi[:y], zi[y:y + 1] - s * m[y], zi[y + 1:]])
            w = 1.0 if class_weight is None else float(class_weight[y])
            num = num + w * (torch.logsumexp(zi, 0) - zi[y])
            den += w
        total = total + base_factor * num / den
        kl = 0.0
        for i in range(N):
            q = torch.softmax(mean[i].detach() / temp, 0)
            logp = torch.log_softmax(expert_logits[i, k] / temp, 0)
            kl = kl + (q * (q.log() - logp)).sum()
        total = total + lam * temp.mean() ** 2 * kl / N
    return total


def test_two_identical_experts_hand_computed():
    # counts (16, 1): margins 0.5 * (16^-1/4, 1) = (0.25, 0.5); with s = 1, target 0 and logits (1, 0) the margined
    # logits are (0.75, 0): CE = log(1 + e^-0.75). Identical experts: KL = 0, the two LDAM terms add up.
    loss = build([16, 1], s=1.0)
    logits = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    expected = 2 * math.log(1 + math.exp(-0.75))
    torch.testing.assert_close(loss(logits, torch.tensor([0])), torch.tensor(expected))
    # target 1 gets the larger margin 0.5: logits (1, -0.5), CE = log(1 + e^1.5)
    torch.testing.assert_close(loss(logits, torch.tensor([1])), torch.tensor(2 * math.log(1 + math.exp(1.5))))


def test_diversity_temperatures_hand_computed():
    # pi = (0.75, 0.25), C = 2, f = 0.5: t = (1.25, 0.75) / 1.25 = (1, 0.6)
    torch.testing.assert_close(diversity_temperatures([3, 1], 0.5), torch.tensor([1.0, 0.6]))
    torch.testing.assert_close(diversity_temperatures([5, 5, 5], 0.3), torch.ones(3))
    with pytest.raises(ValueError, match='reweight_factor'):
        diversity_temperatures([1000, 1], 2.0)


@pytest.mark.parametrize('reweight', [False, True])
@pytest.mark.parametrize('lam', [-0.2, 0.0, 0.5])
def test_value_and_gradient_match_naive_reference(reweight, lam):
    torch.manual_seed(0)
    counts = [50, 20, 7, 1]
    loss = build(counts, s=30.0, additional_diversity_factor=lam, reweight_factor=0.05, base_loss_factor=0.7,
                 base_diversity_temperature=1.5, loss_weight=2.0, drw=dict(start_epoch=1))
    loss.drw.set_epoch(1 if reweight else 0)
    weight = effective_number_weights(counts, 0.9999) if reweight else None
    x = (torch.rand(6, 3, 4, dtype=torch.float64) * 2 - 1) * 30
    x.requires_grad_(True)
    target = torch.tensor([0, 1, 2, 3, 0, 2])
    ours = loss(x.float(), target)
    (g,) = torch.autograd.grad(ours, x)
    ref = 2.0 * naive_ride(x, target, counts, 30.0, 0.5, lam, 0.05, 1.5, 0.7, weight)
    (rg,) = torch.autograd.grad(ref, x)
    torch.testing.assert_close(ours.double(), ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g, rg, rtol=1e-3, atol=1e-5)


def test_negative_diversity_pushes_expert_away_from_ensemble():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 5) * 3
    target = torch.randint(0, 5, (8,))
    margins = torch.zeros(5)

    def kl_to_mean(e):
        return sum(F.kl_div(F.log_softmax(e[:, k], 1), F.softmax(e.mean(1), 1), reduction='batchmean')
                   for k in range(3))

    for lam, sign in ((-1.0, 1), (1.0, -1)):
        e = x.clone().requires_grad_(True)
        ldam, diversity = ride_loss_terms(e, target, margins, 1.0, None, torch.tensor(1.0), 0.0, lam)
        (g,) = torch.autograd.grad(ldam.mean() + diversity.mean(), e)
        stepped = (e - 0.05 * g).detach()
        assert sign * (kl_to_mean(stepped) - kl_to_mean(x)) > 0


def test_loss_epoch_hook_drives_ride_drw():
    from types import SimpleNamespace

    counts = [30, 3, 1]
    head = MODELS.build(dict(type='MultiExpertClsHead', num_classes=3, in_channels=4,
                             loss=dict(type='RIDELoss', class_stats=stats(counts), reweight_factor=0.05,
                                       drw=dict(start_epoch=2))))
    assert head.loss_module.num_classes == 3 and epoch_modules(head) == [head.loss_module.drw]
    hook = LossEpochHook()
    runner = SimpleNamespace(model=head, epoch=1)
    hook.before_train_epoch(runner)
    torch.testing.assert_close(head.loss_module.class_weight, torch.ones(3))
    torch.testing.assert_close(head.loss_module.temperature(), torch.ones(3))
    runner.epoch = 2
    hook.before_train_epoch(runner)
    torch.testing.assert_close(head.loss_module.class_weight, effective_number_weights(counts, 0.9999))
    torch.testing.assert_close(head.loss_module.temperature(), diversity_temperatures(counts, 0.05))
    # the per-class temperature is on: the loss equals the reference with weights
    x = torch.randn(4, 3, 3, dtype=torch.float64) * 10
    target = torch.tensor([0, 1, 2, 0])
    ref = naive_ride(x, target, counts, 30.0, 0.5, -0.2, 0.05, 1.0, 1.0, head.loss_module.class_weight)
    torch.testing.assert_close(head.loss_module(x.float(), target).double(), ref, rtol=1e-4, atol=1e-4)


def test_count_edge_cases_and_bad_input():
    loss = build([1, 1])  # classes with one image: margins equal, temperatures 1
    torch.testing.assert_close(loss.margins, torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(loss.drw_temperature, torch.ones(2))
    with pytest.raises(ValueError, match='class index 1'):
        build([4, 0, 2])
    loss = build([4, 2])
    with pytest.raises(ValueError, match=r'\(N, K, C\)'):
        loss(torch.randn(3, 2), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match='has 2 classes'):
        loss(torch.randn(3, 2, 5), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match='integer class indices'):
        loss(torch.randn(3, 2, 2), torch.rand(3, 2))
    with pytest.raises(ValueError, match='num_classes=3'):
        build([4, 2], num_classes=3)


def test_sample_weights_and_reductions():
    """Per-sample weights scale both terms (and the LDAM denominator); 'sum' and 'none' follow from the terms."""
    torch.manual_seed(0)
    loss = build([20, 5, 1], drw=dict(start_epoch=0))
    loss.drw.set_epoch(0)
    x, target = torch.randn(4, 3, 3) * 10, torch.tensor([0, 1, 2, 1])
    ldam, diversity = ride_loss_terms(x, target, loss.margins, 30.0, loss.class_weight, loss.temperature(), 1.0, -0.2)
    w_y = loss.class_weight[target]
    torch.testing.assert_close(loss(x, target, reduction_override='none'), ldam + diversity)
    torch.testing.assert_close(loss(x, target, reduction_override='sum'), (ldam + diversity).sum())
    torch.testing.assert_close(loss(x, target, avg_factor=4), ldam.sum() / w_y.sum() + diversity.sum() / 4)
    sample = torch.tensor([1.0, 0.0, 2.0, 1.0])
    torch.testing.assert_close(loss(x, target, weight=sample, avg_factor=4),
                               (sample * ldam).sum() / (sample * w_y).sum() + (sample * diversity).sum() / 4)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_logits_are_computed_in_float32(dtype):
    torch.manual_seed(0)
    loss = build([40, 4, 1])
    x = torch.randn(5, 3, 3) * 30
    target = torch.tensor([0, 1, 2, 1, 0])
    out = loss(x.to(dtype), target)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    torch.testing.assert_close(out, loss(x.to(dtype).float(), target))


def _digits_cfg(path, root, work_dir, **options):
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / path))
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        'model.head.loss.class_stats': root + 'meta/train.txt', 'val_evaluator.class_stats': root + 'meta/train.txt',
        'test_evaluator.class_stats': root + 'meta/train.txt',
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False,
        'default_hooks.checkpoint.interval': 1, **options})
    cfg.launcher, cfg.work_dir = 'none', str(work_dir)
    return cfg


@pytest.mark.slow
def test_ride_digits_configs_train_both_stages(cls_workspace, tmp_path):
    """CPU smoke of configs/ride on Digits-LT: stage 1 (3-expert ResNet-32, 2 epochs, DRW from epoch 1), then stage 2
    (the router, 1 epoch) from its checkpoint: only the router changes, and the test uses the routed prediction."""
    from ltmm.engine import build_runner

    root = str(cls_workspace / 'data' / 'digits_lt') + '/'
    stage1 = build_runner(_digits_cfg('configs/ride/ride_resnet32_1xb32_digits-lt_30e.py', root, tmp_path / 's1', **{
        'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2, 'model.head.loss.drw.start_epoch': 1}))
    stage1.train()
    assert stage1.model.head.loss_module.drw.active  # DRW switched on at epoch 1
    assert 0.0 <= stage1.message_hub.get_scalar('val/shot/all').current() <= 100.0
    before = {k: v.clone() for k, v in stage1.model.state_dict().items()}

    stage2_cfg = 'configs/ride/ride-ea_resnet32_1xb32_digits-lt_5e.py'
    stage2 = build_runner(_digits_cfg(stage2_cfg, root, tmp_path / 's2', **{
        'load_from': str(tmp_path / 's1' / 'epoch_2.pth'), 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'param_scheduler.T_max': 1, 'param_scheduler.end': 1}))
    stage2.train()
    after = stage2.model.state_dict()
    assert set(after) - set(before) == {k for k in after if k.startswith('head.router.')}
    for key, value in before.items():
        torch.testing.assert_close(after[key], value, msg=key)  # backbone, BN statistics and classifiers frozen
    assert stage2.message_hub.get_scalar('train/num_experts_used').current() >= 1.0
    metrics = stage2.test()
    assert 0.0 <= metrics['shot/all'] <= 100.0
