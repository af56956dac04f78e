"""KCL's queue pre-fill (ltmm.cls.hooks.QueuePrefillHook, QueueContrastClassifier.prefill_queue; BalFeat
init_key_queue): the queue is full before step 0, with no gradient and no parameter change, the key encoder starts as
the query encoder, and a --resume does not refill."""
import pytest
import torch
from mmpretrain.registry import HOOKS, MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks import QueuePrefillHook

from ..helpers import REPO


def build_model(momentum=0.99):
    return MODELS.build(dict(
        type='QueueContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
        neck=dict(type='LinearNeck', in_channels=120, out_channels=8, norm_cfg=None),
        contrast_loss=dict(type='KCLLoss'), queue_size=6, feat_dim=8, momentum=momentum,
        data_preprocessor=dict(mean=[0.0], std=[1.0])))


def test_prefill_writes_keys_and_labels_without_gradient_or_parameter_change():
    torch.manual_seed(0)
    model = build_model()
    model.init_weights()
    before = {k: v.clone() for k, v in model.named_parameters()}
    views = [torch.randn(3, 1, 32, 32) for _ in range(2)]
    samples = [DataSample().set_gt_label(y) for y in (2, 0, 1)]
    model.prefill_queue(views, samples)
    assert model.queue.labels.tolist() == [2, 0, 1, -1, -1, -1] and int(model.queue.ptr) == 3
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) and p.grad is None, name
    key = model.momentum_encoder.module
    query = model._query_encoder()
    for (name, pk), pq in zip(key.named_parameters(), query.parameters()):
        assert torch.equal(pk, pq), name  # the key encoder starts as the query encoder (MoCo's copy)
    with torch.no_grad():
        expected = torch.nn.functional.normalize(key(views[1])[-1], dim=1)
    torch.testing.assert_close(model.queue.feats[:3], expected, rtol=1e-5, atol=1e-6)
    model.prefill_queue(views, samples)
    assert int(model.queue.ptr) == 0 and (model.queue.labels >= 0).all()
    with pytest.raises(RuntimeError, match='momentum'):
        build_model(momentum=None).prefill_queue(views, samples)


def kcl_cfg(work_dir, max_epochs):
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / 'configs' / 'kcl' / 'kcl_lenet_1xb32_digits-lt_30e.py'))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_begin = max_epochs + 1
    cfg.train_dataloader.dataset.indices = 32 * 6
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.param_scheduler = []
    return cfg


class RecordQueue(QueuePrefillHook):
    """Records the queue and the parameters after the pre-fill, before step 0."""

    def before_train(self, runner) -> None:
        params = {k: v.clone() for k, v in runner.model.named_parameters()}
        super().before_train(runner)
        self.labels = runner.model.queue.labels.clone()
        self.ptr = int(runner.model.queue.ptr)
        self.unchanged = all(torch.equal(v, params[k]) for k, v in runner.model.named_parameters())


@pytest.mark.slow
def test_queue_is_full_before_step_0_and_resume_does_not_refill(cls_workspace, tmp_path, monkeypatch):
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)
    HOOKS.register_module(name='RecordQueue', module=RecordQueue, force=True)
    cfg = kcl_cfg(tmp_path, 1)
    cfg.custom_hooks = [dict(type='RecordQueue')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, RecordQueue))
    assert (hook.labels >= 0).all() and hook.ptr == 0 and hook.unchanged  # 192 keys = 6 batches of 32
    saved = {k: v.clone() for k, v in runner.model.state_dict().items() if k.startswith('queue.')}
    cfg = kcl_cfg(tmp_path / 'resumed', 1)
    cfg.custom_hooks = [dict(type='RecordQueue')]
    cfg.resume, cfg.load_from = True, str(tmp_path / 'epoch_1.pth')
    resumed = Runner.from_cfg(cfg)
    resumed.train()  # epoch 1 of 1 done: resumed, nothing trained, nothing refilled
    hook = next(h for h in resumed.hooks if isinstance(h, RecordQueue))
    for name, value in saved.items():
        assert torch.equal(resumed.model.state_dict()[name], value), name
    assert torch.equal(hook.labels, saved['queue.labels'])


def prefill_worker(rank, world_size, port, out_dir):
    from pathlib import Path

    from ..helpers import gloo_process_group

    with gloo_process_group(rank, world_size, port):
        torch.manual_seed(0)
        model = build_model()
        views = [torch.randn(6, 1, 32, 32, generator=torch.Generator().manual_seed(i)) for i in range(2)]
        samples = [DataSample().set_gt_label(y) for y in range(6)]
        rows = slice(rank * 3, rank * 3 + 3)
        model.prefill_queue([v[rows] for v in views], samples[rows])
        torch.save(model.queue.state_dict(), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_prefill_over_two_ranks_gathers_every_rank_keys(tmp_path):
    import torch.multiprocessing as mp

    from ..helpers import free_port

    mp.start_processes(prefill_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    torch.manual_seed(0)
    single = build_model()
    views = [torch.randn(6, 1, 32, 32, generator=torch.Generator().manual_seed(i)) for i in range(2)]
    single.prefill_queue(views, [DataSample().set_gt_label(y) for y in range(6)])
    for rank in range(2):
        state = torch.load(tmp_path / f'rank{rank}.pt')
        for name, buf in single.queue.state_dict().items():
            torch.testing.assert_close(state[name], buf, msg=name)
    assert single.queue.labels.tolist() == list(range(6))
