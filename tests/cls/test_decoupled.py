"""Decoupled stage 2 (DecoupledStageHook: freezing, BatchNorm mode, cRT head re-initialisation) and a CPU smoke of
the configs/decoupling chain on Digits-LT: stage 1 -> cRT, LWS, tau-norm (test) and tools/analysis/tau_sweep.py."""
import copy
import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks import DecoupledStageHook
from ltmm.engine import build_runner

from ..helpers import REPO, run, tool

HEAD = dict(type='LinearClsHead', num_classes=10, in_channels=64)
MODEL = dict(type='ImageClassifier', backbone=dict(type='ResNet32CIFAR', in_channels=1),
             neck=dict(type='GlobalAveragePooling'), head=HEAD)


def fake_runner(model: torch.nn.Module, it: int = 0) -> SimpleNamespace:
    messages = []
    return SimpleNamespace(model=model, iter=it, epoch=0, cfg=Config(dict(model=MODEL, load_from='stage1.pth')),
                           logger=SimpleNamespace(info=messages.append), messages=messages)


def bn_stats(model: torch.nn.Module) -> Dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items() if 'running_mean' in k}


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(MODEL))


def test_freezes_backbone_and_neck_only(model):
    runner = fake_runner(model)
    DecoupledStageHook().before_run(runner)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert '650 of' in runner.messages[0]  # 64 * 10 + 10 head parameters remain trainable
    x = torch.randn(4, 1, 32, 32)
    model.train()
    model(x, [], mode='tensor').sum().backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.head.fc.weight.grad is not None


@pytest.mark.parametrize('bn_mode', ['train', 'eval'])
def test_bn_mode(model, bn_mode):
    runner = fake_runner(model)
    hook = DecoupledStageHook(bn_mode=bn_mode)
    hook.before_run(runner)
    before = bn_stats(model)
    model.train()  # what the train loop does before every epoch
    hook.before_train_iter(runner, 0)
    with torch.no_grad():
        model(torch.randn(8, 1, 32, 32) * 3 + 1, [], mode='tensor')
    after = bn_stats(model)
    changed = [not torch.equal(before[k], after[k]) for k in before]
    assert len(changed) == 31  # stem + 15 blocks x 2
    if bn_mode == 'train':  # the official cRT: statistics follow the stage-2 batches
        assert all(changed)
        assert all(m.training for m in hook._norms)
    else:
        assert not any(changed)
        assert not any(m.training for m in hook._norms)
    assert model.head.training


def test_reinit_head_like_a_fresh_head(model):
    runner = fake_runner(model)
    with torch.no_grad():
        model.head.fc.weight.fill_(5.0)
        model.head.fc.bias.fill_(5.0)
    weight_ref = model.head.fc.weight  # the optimizer holds these parameter objects: updated in place
    torch.manual_seed(123)
    expected = MODELS.build(copy.deepcopy(HEAD))
    expected.init_weights()
    torch.manual_seed(123)
    DecoupledStageHook(reinit_head=True).before_train(runner)
    assert model.head.fc.weight is weight_ref
    torch.testing.assert_close(model.head.state_dict(), expected.state_dict())
    assert model.head.fc.weight.std() < 0.05  # LinearClsHead's Normal(0, 0.01) init
    # a resumed run (iter > 0) keeps its head
    with torch.no_grad():
        model.head.fc.weight.fill_(5.0)
    DecoupledStageHook(reinit_head=True).before_train(fake_runner(model, it=10))
    assert torch.all(model.head.fc.weight == 5.0)
    # without reinit_head the loaded head stays
    DecoupledStageHook().before_train(runner)
    assert torch.all(model.head.fc.weight == 5.0)


def test_bad_arguments(model):
    with pytest.raises(ValueError, match='bn_mode'):
        DecoupledStageHook(bn_mode='frozen')
    with pytest.raises(ValueError, match="no sub-module 'trunk'"):
        DecoupledStageHook(frozen_modules=('trunk',)).before_run(fake_runner(model))
    with pytest.raises(ValueError, match='no trainable parameter'):
        DecoupledStageHook(frozen_modules=('backbone', 'neck', 'head')).before_run(fake_runner(model))
    no_neck = MODELS.build(dict(MODEL, neck=None, head=dict(type='ClsHead')))
    with pytest.raises(ValueError, match='no trainable parameter'):  # neck skipped, ClsHead has no parameter
        DecoupledStageHook().before_run(fake_runner(no_neck))


def test_ddp_needs_find_unused_parameters(model):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from ..helpers import free_port

    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0, world_size=1)
    try:
        with pytest.raises(RuntimeError, match='find_unused_parameters=True'):
            DecoupledStageHook().before_run(fake_runner(DistributedDataParallel(model)))
        runner = fake_runner(DistributedDataParallel(model, find_unused_parameters=True))
        DecoupledStageHook().before_run(runner)
        assert not any(p.requires_grad for p in model.backbone.parameters())
    finally:
        dist.destroy_process_group()


# ---------------------------------------------------------------- Digits-LT chain with the real configs

def digits_config(config: str, root: Path, work_dir: Path, **options: Any) -> Config:
    """A configs/ file pointed at the Digits-LT copy under ``root`` (data/digits_lt) and ``work_dir``, with
    in-process data loading."""
    cfg = Config.fromfile(str(REPO / config))
    data = str(root / 'data' / 'digits_lt') + '/'
    overrides = {f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
                 for key, value in (('dataset.data_root', data), ('num_workers', 0), ('persistent_workers', False))}
    overrides.update({'val_evaluator.class_stats': data + 'meta/train.txt',
                      'test_evaluator.class_stats': data + 'meta/train.txt'})
    if 'class_stats' in cfg.model.head.get('loss', {}):
        overrides['model.head.loss.class_stats'] = data + 'meta/train.txt'
    overrides.update(options)
    cfg.merge_from_dict(overrides)
    cfg.launcher, cfg.work_dir = 'none', str(work_dir)
    return cfg


@pytest.fixture(scope='module')
def stage1_ckpt(cls_workspace, tmp_path_factory) -> Path:
    """A 2-epoch stage-1 checkpoint of configs/decoupling's Digits-LT stage 1."""
    work_dir = tmp_path_factory.mktemp('stage1')
    build_runner(digits_config('configs/decoupling/stage1-ce_lenet_1xb32_digits-lt_30e.py', cls_workspace, work_dir,
                               **{'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2})).train()
    return work_dir / 'epoch_2.pth'


@pytest.mark.slow
def test_digits_decoupling_chain(cls_workspace, stage1_ckpt, tmp_path):
    ckpt = stage1_ckpt
    state1 = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']

    crt = build_runner(digits_config('configs/decoupling/crt_lenet_1xb32_digits-lt_10e.py', cls_workspace,
                                     tmp_path / 'crt', load_from=str(ckpt),
                                     **{'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1}))
    assert crt.train_dataloader.sampler.__class__.__name__ == 'ClassAwareSampler'
    assert len(crt.train_dataloader) == 347 // 32  # an epoch = floor(N / batch) iterations
    crt.train()
    state = crt.model.state_dict()
    for key in state1:
        if key.startswith('backbone'):
            torch.testing.assert_close(state[key], state1[key])  # frozen
    assert not torch.allclose(state['head.fc.weight'], state1['head.fc.weight'])  # re-initialised and trained
    assert 0 <= crt.message_hub.get_scalar('val/shot/few').current() <= 100

    lws = build_runner(digits_config('configs/decoupling/lws_lenet_1xb32_digits-lt_5e.py', cls_workspace,
                                     tmp_path / 'lws', load_from=str(ckpt),
                                     **{'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1}))
    lws.train()
    state = lws.model.state_dict()
    for key in state1:  # backbone and classifier frozen; only the scales learn
        torch.testing.assert_close(state[key], state1[key])
    assert not torch.equal(state['head.scales'], torch.ones(10))

    tau_cfg = digits_config('configs/decoupling/tau-norm_lenet_1xb32_digits-lt.py', cls_workspace, tmp_path / 'tau',
                            load_from=str(ckpt), **{'model.head.tau': 0.5})
    metrics = build_runner(tau_cfg).test()
    assert set(metrics) >= {'shot/many', 'shot/medium', 'shot/few', 'shot/all'}


@pytest.mark.slow
def test_tau_sweep_tool(cls_workspace, stage1_ckpt, tmp_path):
    """tools/analysis/tau_sweep.py on a tiny stage-1 checkpoint: table, CSV, PNG and the written config, whose tau
    reproduces the swept accuracy in the runner's own validation loop."""
    ckpt = stage1_ckpt
    data = cls_workspace / 'data' / 'digits_lt'
    out_cfg = tmp_path / 'best_tau.py'
    proc = run(tool('analysis/tau_sweep.py', str(REPO / 'configs/decoupling/tau-norm_lenet_1xb32_digits-lt.py'),
                    str(ckpt), '--taus', '0', '2', '5', '--out-dir', str(tmp_path / 'sweep'), '--write-config',
                    str(out_cfg), '--cfg-options', f'val_dataloader.dataset.data_root={data}/',
                    f'val_evaluator.class_stats={data}/meta/train.txt', 'val_dataloader.num_workers=0',
                    'val_dataloader.persistent_workers=False'), cwd=tmp_path)
    assert 'best tau =' in proc.stdout
    with open(tmp_path / 'sweep' / 'tau_sweep.csv', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    assert [float(r['tau']) for r in rows] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert (tmp_path / 'sweep' / 'tau_sweep.png').stat().st_size > 0
    best = max(rows, key=lambda r: (float(r['all']), -float(r['tau'])))
    written = Config.fromfile(str(out_cfg))
    assert written.model.head.type == 'TauNormClsHead' and written.model.head.tau == float(best['tau'])
    # the val accuracy of the runner's own loop with that tau is the table's
    val_cfg = digits_config(str(out_cfg), cls_workspace, tmp_path / 'val', load_from=str(ckpt),
                            **{'default_hooks.checkpoint.save_best': None})
    runner = build_runner(val_cfg)
    metrics = runner.val()
    assert metrics['shot/all'] == pytest.approx(float(best['all']))
