"""NCL's MoCo branch (NCLMoCoClassifier): the InfoNCE against a naive per-anchor transcription of the official
combiner (value and gradient), the per-expert EMA (applied K times, after the keys; independent key init), queue
wrap-around per expert, no gradient into the key networks and heads, the state through a real --resume, the
Digits-LT config on CPU."""
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ltmm.cls.classifiers.ncl_moco_classifier import moco_infonce

from ..helpers import REPO
from .digits_lt_smoke import train_two_iterations


def naive_infonce(q, k, queue, t):
    total = 0.0
    for i in range(q.shape[0]):
        pos = torch.exp(q[i] @ k[i] / t)
        neg = sum(torch.exp(q[i] @ queue[j] / t) for j in range(queue.shape[0]))
        total = total - torch.log(pos / (pos + neg))
    return total / q.shape[0]


def test_infonce_matches_naive_value_and_grad():
    torch.manual_seed(0)
    q0 = F.normalize(torch.randn(4, 8), dim=1)
    k = F.normalize(torch.randn(4, 8), dim=1)
    queue = F.normalize(torch.randn(16, 8), dim=1)
    q1, q2 = q0.clone().requires_grad_(), q0.clone().requires_grad_()
    a, b = moco_infonce(q1, k, queue, 0.2), naive_infonce(q2, k, queue, 0.2)
    a.backward(), b.backward()
    assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(q1.grad, q2.grad, atol=1e-5)


def _model(queue_size=8):
    from mmpretrain.registry import MODELS

    import ltmm  # noqa: F401
    return MODELS.build(dict(type='NCLMoCoClassifier', backbone=dict(type='LeNet5', num_classes=-1), num_classes=10,
                             in_channels=120, num_experts=2, queue_size=queue_size, moco_dim=16,
                             loss=dict(type='NCLLoss', class_stats=dict(num_images=55, image_count=list(range(1, 11)),
                                                                        instance_count=list(range(1, 11))), hcm_n=3)))


def test_smoke_momentum_queue_wrap_and_no_key_grad():
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    model = _model()
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    for step in range(3):
        x = [torch.randn(4, 1, 32, 32), torch.randn(4, 1, 32, 32)]
        losses = model.loss(x, samples)
        sum(losses.values()).backward()
        for k in range(2):
            assert int(model.queues[k].ptr) == ((step + 1) * 4) % 8
    for enc, proj in zip(model.key_encoders, model.key_projections):
        assert all(p.grad is None for p in enc.parameters())
        assert all(p.grad is None and not p.requires_grad for p in proj.parameters())
    keys = model.state_dict().keys()
    assert any(k.startswith('queues.1.feats') for k in keys) and any(k.startswith('key_encoders.0.') for k in keys)
    assert len(model.predict(x)) == 4


def test_momentum_applied_once_per_expert_and_keys_before_update():
    torch.manual_seed(0)
    model = _model()
    assert abs(model.momentum - 0.999 ** 2) < 1e-12  # the official loop applies the EMA K = 2 times per step
    q_before = [p.detach().clone() for p in model.backbones[1].parameters()]
    k_before = [p.detach().clone() for p in model.key_encoders[1][0].parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(q_before, k_before))  # independent initialisation
    from mmpretrain.structures import DataSample
    x = [torch.randn(4, 1, 32, 32), torch.randn(4, 1, 32, 32)]
    model.train()
    expected_key = model.key_features(1, x[1])
    model.loss(x, [DataSample().set_gt_label(i) for i in range(4)])
    assert torch.allclose(model.queues[1].feats[:4], expected_key, atol=1e-6)  # keys from pre-update weights
    a = 0.999
    for q, k, new in zip(q_before, k_before, model.key_encoders[1][0].parameters()):
        assert torch.allclose(new, a * (a * k + (1 - a) * q) + (1 - a) * q, atol=1e-6)


def test_state_dict_round_trip():
    torch.manual_seed(0)
    model = _model()
    from mmpretrain.structures import DataSample
    model.loss([torch.randn(4, 1, 32, 32), torch.randn(4, 1, 32, 32)], [DataSample().set_gt_label(i) for i in range(4)])
    other = _model()
    other.load_state_dict(model.state_dict())
    for k in range(2):
        assert torch.equal(other.queues[k].feats, model.queues[k].feats) and int(other.queues[k].ptr) == 4
    for a, b in zip(other.key_encoders.parameters(), model.key_encoders.parameters()):
        assert torch.equal(a, b)


def test_single_view_training_input_is_rejected():
    from mmpretrain.structures import DataSample
    with pytest.raises(ValueError, match='two views'):
        _model().loss(torch.randn(4, 1, 32, 32), [DataSample().set_gt_label(0)] * 4)


DIGITS = 'configs/ncl/ncl-moco_lenet_1xb32_digits-lt_30e.py'


@pytest.mark.slow
def test_digits_lt_config_trains_and_resumes(cls_workspace, tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(str(REPO / DIGITS), tmp_path / 'smoke')
    assert math.isfinite(loss) and type(runner.model).__name__ == 'NCLMoCoClassifier'
    assert all(int(q.ptr) == 64 for q in runner.model.queues)  # two batches of 32 in each expert's queue of 512
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key

    def short_run(work_dir: Path, resume: bool):
        cfg = Config.fromfile(str(REPO / DIGITS))
        cfg.work_dir = str(work_dir)
        cfg.train_dataloader.dataset.indices = 64
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            loader.num_workers = 0
            loader.persistent_workers = False
        cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval = 1, 10
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
        cfg.param_scheduler = []
        if resume:
            cfg.resume, cfg.load_from = True, str(tmp_path / 'first' / 'epoch_1.pth')
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner

    first = short_run(tmp_path / 'first', resume=False)
    resumed = short_run(tmp_path / 'resumed', resume=True)  # loads epoch 1 of 1: no further step
    for a, b in zip(first.model.queues, resumed.model.queues):
        assert torch.equal(a.feats, b.feats) and int(a.ptr) == int(b.ptr) == 64
    for a, b in zip(first.model.key_encoders.state_dict().values(), resumed.model.key_encoders.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(first.model.key_projections.parameters(), resumed.model.key_projections.parameters()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_digits_lt_config_trains_on_two_gloo_processes(cls_workspace):
    """tools/dist_train.sh with 2 CPU processes (gloo): the shuffle-BN key encoding across ranks and the all-gathered
    enqueue. 64 images, one step of 32 per rank: every expert's queue holds the 64 keys of both ranks."""
    import re

    from ..helpers import free_port, run, tool

    work = cls_workspace / 'ncl_moco_dist'
    env = {'PYTHON': tool('train.py')[0], 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'}
    out = run(['bash', str(REPO / 'tools/dist_train.sh'), str(REPO / DIGITS), '2', '--work-dir', str(work),
               '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               'train_dataloader.dataset.indices=64', 'param_scheduler=[]', 'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1'],
              cls_workspace, env=env).stdout
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    losses = [float(v) for v in re.findall(r'\bloss: ([\d.]+)', out)]
    assert losses and all(math.isfinite(v) for v in losses)
    assert re.search(r'shot/few: \d', out)
    state = torch.load(work / 'epoch_1.pth', weights_only=False)['state_dict']
    ptrs = [int(v) for k, v in state.items() if k.startswith('queues.') and k.endswith('.ptr')]
    assert ptrs == [64, 64, 64]
