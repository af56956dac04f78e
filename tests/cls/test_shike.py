"""Tests of SHIKE's DKT loss (ltmm/cls/losses/shike_loss.py)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401  (registers the modules)
from ltmm.cls.losses.shike_loss import shike_loss


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def naive_shike(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-class loops transcribing the official mix_outputs (KL 'mean' = divide by B*C)."""
    b, k_num, c = logits.shape
    total = logits.new_zeros(())
    for k in range(k_num):
        total = total + F.cross_entropy(logits[:, k], label)
        hns = logits.new_zeros(())
        mutual = logits.new_zeros(())
        for i in range(b):
            y = int(label[i])
            mean = logits[i].mean(0)
            mx = logits[i].max(0).values
            h = max((cc for cc in range(c) if cc != y), key=lambda cc: float(mean[cc].detach()))
            t = torch.stack([logits.new_zeros(()) if cc == y else (mean[cc] if cc == h else mx[cc])
                             for cc in range(c)])
            p = torch.softmax(t, 0)
            zq = torch.stack([logits.new_tensor(-30.0) if cc == y else logits[i, k, cc] for cc in range(c)])
            log_q = torch.log_softmax(zq, 0)
            hns = hns + (p * (p.log() - log_q)).sum()
            for j in range(k_num):
                if j != k:
                    pj = torch.softmax(logits[i, j], 0)
                    mutual = mutual + (pj * (pj.log() - torch.log_softmax(logits[i, k], 0))).sum()
        total = total + 10 * hns / (b * c) + mutual / (b * c)
    return total


def test_matches_naive_value_and_gradient():
    torch.manual_seed(0)
    logits = (torch.randn(5, 3, 7) * 4).requires_grad_()
    label = torch.tensor([0, 3, 3, 6, 1])  # classes 2, 4, 5 absent
    ours = shike_loss(logits, label)
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = naive_shike(logits, label)
    (g_ref,) = torch.autograd.grad(ref, logits)
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(g_ours, g_ref, atol=1e-6)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('stage', [1, 2])
def test_low_precision_logits_with_a_loss_scale(dtype, stage):
    """Under AMP the head's logits are fp16 / bf16: both stages' losses (DKT, and the balanced softmax of stage 2)
    compute in float32, and the scaled gradient equals the float32 path's, rounded to the logits' dtype."""
    torch.manual_seed(0)
    counts = dict(num_images=12, image_count=[6, 3, 2, 1], instance_count=[6, 3, 2, 1])
    loss = MODELS.build(dict(type='SHIKELoss' if stage == 1 else 'BalancedSoftmaxLoss', class_stats=counts))
    logits = (torch.randn(6, 3, 4) * 8 if stage == 1 else torch.randn(6, 4) * 8).to(dtype)
    label = torch.tensor([0, 3, 3, 2, 1, 2])
    ref_in = logits.float().requires_grad_()
    ref = loss(ref_in, label)
    (ref_grad,) = torch.autograd.grad(ref * 1024, ref_in)
    low_in = logits.clone().requires_grad_()
    out = loss(low_in, label)
    (grad,) = torch.autograd.grad(out * 1024, low_in)
    assert out.dtype == torch.float32 and grad.dtype == dtype
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(grad.float(), ref_grad, rtol=2 ** -10 if dtype == torch.float16 else 2 ** -7, atol=1e-3)


def test_hns_hand_case():
    # one expert, 3 classes, label 0: no mutual term; teacher t = (0, Zbar_h, Zmax_other) with h = argmax non-target
    z = torch.tensor([[[1.0, 2.0, 0.5]]])
    label = torch.tensor([0])
    t = torch.tensor([0.0, 2.0, 0.5])
    p = torch.softmax(t, 0)
    log_q = torch.log_softmax(torch.tensor([-30.0, 2.0, 0.5]), 0)
    ce = -math.log(math.exp(1) / (math.exp(1) + math.exp(2) + math.exp(0.5)))
    expected = ce + 10 * float((p * (p.log() - log_q)).sum()) / 3
    assert float(shike_loss(z, label)) == pytest.approx(expected, rel=1e-5)


def test_module_and_errors():
    loss = MODELS.build(dict(type='SHIKELoss', class_stats=stats([5, 3, 1, 0]), num_experts=2))
    out = loss(torch.randn(4, 2, 4), torch.tensor([0, 1, 1, 2]))
    assert out.dim() == 0 and torch.isfinite(out)
    with pytest.raises(ValueError, match='expected'):
        loss(torch.randn(4, 3, 4), torch.tensor([0, 1, 1, 2]))
    with pytest.raises(ValueError, match='num_experts'):
        MODELS.build(dict(type='SHIKELoss', class_stats=stats([5, 3]), num_experts=0))


def test_dkf_backbone_shapes_sharing_and_fusion():
    backbone = MODELS.build(dict(type='SHIKEResNet32', num_experts=3)).eval()
    assert backbone.depths == (2, 1, 2)
    # shared stem / layer1 / layer2 are single modules; layer3 and the shallow branches are per expert
    assert not isinstance(backbone.layer1, torch.nn.ModuleList) and not isinstance(backbone.layer2, torch.nn.ModuleList)
    assert len(backbone.layer3) == 3 and len(backbone.shallow) == 3
    assert backbone.shallow[0][0].in_channels == 16 and backbone.shallow[1][0].in_channels == 32
    assert not isinstance(backbone.shallow[0][-1], torch.nn.ReLU) and isinstance(backbone.shallow[1][-1], torch.nn.ReLU)
    x = torch.randn(2, 3, 32, 32)
    (out, ) = backbone(x)
    assert out.shape == (2, 3 * 64, 8, 8)
    with torch.no_grad():
        f1 = backbone.layer1(backbone.stem(x))
        f2 = backbone.layer2(f1)
        expert1 = backbone.layer3[1](f2) * backbone.shallow[1](f2)
    assert torch.allclose(out[:, 64:128], expert1, atol=1e-6)


# ---------------------------------------------------------------- the head's two stages, the schedule, the config

HEAD = dict(type='SHIKEClsHead', num_classes=4, in_channels=8, num_experts=3, retrain_epoch=2,
            loss=dict(type='SHIKELoss', class_stats=stats([6, 3, 2, 1])),
            retrain_loss=dict(type='BalancedSoftmaxLoss', class_stats=stats([6, 3, 2, 1])))


def cosine(x, w):
    return 30 * F.normalize(x, dim=1) @ F.normalize(w, dim=1).t()


def samples(labels):
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_head_stage1_then_stage2_losses_and_predictions():
    torch.manual_seed(0)
    head = MODELS.build(HEAD)
    feats = torch.randn(5, 3 * 8)
    label = torch.tensor([0, 1, 2, 3, 0])
    x = feats.view(5, 3, 8)
    stage1 = torch.stack([cosine(x[:, k], head.classifiers[k].weight) for k in range(3)], dim=1)
    stage2 = torch.stack([cosine(x[:, k], head.rt_classifiers[k].weight) for k in range(3)], dim=1)
    head.set_epoch(1)
    assert not bool(head.retraining)
    loss1 = head.loss((feats, ), samples(label))['loss']
    torch.testing.assert_close(loss1, shike_loss(stage1, label))
    torch.testing.assert_close(head((feats, )), stage1.mean(dim=1))
    head.set_epoch(2)  # the official `epoch >= args.cornerstone`
    assert bool(head.retraining)
    log_n = torch.tensor([6.0, 3.0, 2.0, 1.0]).log()
    expected = sum(F.cross_entropy(stage2[:, k] + log_n, label) for k in range(3))
    torch.testing.assert_close(head.loss((feats, ), samples(label))['loss'], expected)
    torch.testing.assert_close(head((feats, )), stage2.mean(dim=1))
    pred = head.predict((feats, ))
    assert [int(p.pred_label) for p in pred] == stage2.mean(dim=1).argmax(dim=1).tolist()
    # the stage is in the checkpoint: a fresh head loading it predicts with rt_classifiers
    fresh = MODELS.build(HEAD)
    assert not bool(fresh.retraining)
    fresh.load_state_dict(head.state_dict())
    assert bool(fresh.retraining)
    torch.testing.assert_close(fresh((feats, )), stage2.mean(dim=1))


def test_head_stage2_gradients_reach_only_rt_classifiers():
    head = MODELS.build(HEAD)
    head.set_epoch(5)
    feats = torch.randn(4, 24, requires_grad=True)
    head.loss((feats, ), samples([0, 1, 2, 3]))['loss'].backward()
    assert all(fc.weight.grad is None for fc in head.classifiers)
    assert all(fc.weight.grad is not None for fc in head.rt_classifiers)
    # NormedLinear init: unit class vectors, independent of the stage-1 set
    for fc in head.rt_classifiers:
        torch.testing.assert_close(fc.weight.norm(dim=1), torch.ones(4))
    assert not torch.equal(head.rt_classifiers[0].weight, head.classifiers[0].weight)


def test_head_errors():
    with pytest.raises(ValueError, match='no router'):
        MODELS.build(dict(HEAD, router=dict(top_k=2)))
    with pytest.raises(TypeError, match='multi-expert'):
        MODELS.build(dict(HEAD, retrain_loss=dict(type='SHIKELoss', class_stats=stats([6, 3, 2, 1]))))
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(dict(HEAD, retrain_loss=dict(type='BalancedSoftmaxLoss', class_stats=stats([6, 3, 2]))))
    with pytest.raises(ValueError, match='retrain_epoch'):
        MODELS.build(dict(HEAD, retrain_epoch=-1))


class OfficialCosineAnnealingLRWarmup:
    """A transcription of the official utils.py CosineAnnealingLRWarmup.get_lr for one group."""

    def __init__(self, t_max, warmup_epochs, base_lr, warmup_lr):
        self.t_max, self.warmup_epochs, self.base_lr, self.warmup_lr = t_max, warmup_epochs, base_lr, warmup_lr

    def lr(self, last_epoch, group_base_lr):
        if last_epoch < self.warmup_epochs:
            return (((self.warmup_lr - self.base_lr) / (self.warmup_epochs - 1) * (last_epoch - 1) + self.base_lr)
                    / self.base_lr * group_base_lr)
        return (self.warmup_lr * (1 + math.cos(math.pi * (last_epoch - self.warmup_epochs)
                                              / (self.t_max - self.warmup_epochs))) / 2 / self.base_lr * group_base_lr)


def epoch_lrs(schedulers_cfg, lr, max_epochs):
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import PARAM_SCHEDULERS
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), dict(optimizer=dict(type='SGD', lr=lr, momentum=0.9)))
    schedulers = [PARAM_SCHEDULERS.build(dict(cfg, optimizer=wrapper)) for cfg in schedulers_cfg]
    lrs = []
    for _ in range(max_epochs):
        lrs.append(wrapper.optimizer.param_groups[0]['lr'])
        for s in schedulers:
            s.step()
    return lrs


def test_schedule_matches_the_official_two_schedulers():
    cfg = [dict(type='SHIKEWarmupCosineLR', peak_factor=3.0, by_epoch=True, begin=0, end=180),
           dict(type='SHIKEWarmupCosineLR', peak_factor=2.0, by_epoch=True, begin=180, end=200)]
    lrs = epoch_lrs(cfg, 0.05, 200)
    feat = OfficialCosineAnnealingLRWarmup(180, 5, 0.05, 0.15)
    crt = OfficialCosineAnnealingLRWarmup(20, 5, 0.05, 0.1)
    # the official loop: scheduler_feat steps after epochs 0..179, scheduler_crt after 180..199
    official = [feat.lr(e, 0.05) for e in range(180)] + [crt.lr(e, 0.05) for e in range(20)]
    assert lrs == pytest.approx(official, rel=1e-12, abs=1e-15)
    # the values the official log shows
    assert lrs[:6] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.125, 0.15])
    assert lrs[179] == pytest.approx(0.15 * (1 + math.cos(math.pi * 174 / 175)) / 2)
    assert lrs[180:186] == pytest.approx([0.0375, 0.05, 0.0625, 0.075, 0.0875, 0.1])
    assert lrs[199] == pytest.approx(0.1 * (1 + math.cos(math.pi * 14 / 15)) / 2)
    with pytest.raises(ValueError, match='warmup_epochs >= 2'):
        epoch_lrs([dict(type='SHIKEWarmupCosineLR', warmup_epochs=1, by_epoch=True, begin=0, end=10)], 0.1, 1)


def test_cifar_lt_unshuffled_subset():
    from ltmm.cls.datasets.cifar_lt import long_tail_indices
    labels = [i % 3 for i in range(30)]  # 10 images per class
    keep = long_tail_indices(labels, 3, imbalance_factor=5, seed=None)
    # the first n_i images of each class in archive order: n = 10, 4, 2
    assert keep.tolist() == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 1, 4, 7, 10, 2, 5]
    assert sorted(long_tail_indices(labels, 3, imbalance_factor=5, seed=0)[:10].tolist()) == list(range(0, 30, 3))


def test_decoupled_stage_hook_start_epoch():
    from types import SimpleNamespace

    from ltmm.cls.hooks import DecoupledStageHook
    model = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='SHIKEResNet32', in_channels=1),
                              neck=dict(type='GlobalAveragePooling'), head=dict(HEAD, in_channels=64)))
    runner = SimpleNamespace(model=model, epoch=0, iter=0, logger=SimpleNamespace(info=lambda m: None))
    hook = DecoupledStageHook(frozen_modules=('backbone', 'neck', 'head.classifiers'), start_epoch=2)
    hook.before_run(runner)
    hook.before_train_epoch(runner)
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert all(p.requires_grad for p in model.parameters())
    runner.epoch = 2
    hook.before_train_epoch(runner)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f'head.rt_classifiers.{k}.weight' for k in range(3)}
    with pytest.raises(ValueError, match='start_epoch'):
        DecoupledStageHook(start_epoch=3, reinit_head=True)


@pytest.mark.slow
def test_digits_lt_config_crosses_the_stage_and_resumes(cls_workspace, tmp_path, monkeypatch):
    """Stage 1 for one epoch (two iterations) and a checkpoint; a resumed run trains in stage 2 (the config's stage
    switch and freezing moved to epoch 1; the resumed run trains 0-indexed epoch 2): only rt_classifiers change, the
    stage is in the last checkpoint."""
    from ..helpers import REPO
    from .digits_lt_smoke import checkpoint_and_resume, train_two_iterations

    monkeypatch.chdir(cls_workspace)
    torch.set_num_threads(1)
    config = str(REPO / 'configs' / 'shike' / 'shike_resnet32_1xb32_digits-lt_30e.py')
    options = {'model.head.retrain_epoch': 1, 'custom_hooks.1.start_epoch': 1}
    loss, metrics, runner = train_two_iterations(config, tmp_path / 'train', options)
    assert math.isfinite(loss) and 'shot/all' in metrics and not bool(runner.model.head.retraining)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    _, resumed = checkpoint_and_resume(runner, tmp_path)
    head = resumed.model.head
    assert resumed.epoch == 3 and bool(head.retraining)
    after = resumed.model.state_dict()
    changed = {k for k in before if 'num_batches_tracked' not in k and 'running' not in k
               and not torch.equal(before[k], after[k])}
    assert changed == {'head.retraining', *(f'head.rt_classifiers.{k}.weight' for k in range(3))}
    resumed.save_checkpoint(str(tmp_path), 'epoch_3.pth')
    assert bool(torch.load(tmp_path / 'epoch_3.pth', weights_only=False)['state_dict']['head.retraining'])


@pytest.mark.slow
def test_digits_lt_config_crosses_the_stage_on_two_gloo_processes(cls_workspace):
    """tools/dist_train.sh with 2 CPU processes (gloo): DDP through both stages (the switch moved to epoch 1 of 2), the
    unused classifiers of each stage and the parameters frozen mid-run tolerated (find_unused_parameters)."""
    import re

    from ..helpers import REPO, free_port, run, tool

    config = str(REPO / 'configs' / 'shike' / 'shike_resnet32_1xb32_digits-lt_30e.py')
    work = cls_workspace / 'shike_dist'
    env = {'PYTHON': tool('train.py')[0], 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'}
    out = run(['bash', str(REPO / 'tools/dist_train.sh'), config, '2', '--work-dir', str(work), '--cfg-options',
               'train_cfg.max_epochs=2', 'train_cfg.val_interval=2', 'train_dataloader.dataset.indices=64',
               'model.head.retrain_epoch=1', 'custom_hooks.1.start_epoch=1', 'param_scheduler=[]',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
               'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
               'default_hooks.logger.interval=1'], cls_workspace, env=env).stdout
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert 'DecoupledStageHook: froze backbone, neck, head.classifiers from epoch 1' in out
    losses = [float(v) for v in re.findall(r'\bloss: ([\d.]+)', out)]
    assert len(losses) >= 2 and all(math.isfinite(v) for v in losses)
    state = torch.load(work / 'epoch_2.pth', weights_only=False)['state_dict']
    assert bool(state['head.retraining'])
