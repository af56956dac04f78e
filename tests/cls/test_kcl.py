"""KCL: the loss against a naive transcription of the official BalFeat ``KCL.forward`` + soft cross-entropy (value and
gradient), the positive selection (first k, random without / with replacement, all), the reductions (no sampling:
every same-class queue entry is a positive; an all-(-1) queue: MoCo's InfoNCE), errors, and the Digits-LT configs
(stage 1 for two iterations, then the linear probe from its checkpoint) on CPU."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import KCLLoss
from ltmm.cls.losses.kcl_loss import select_positives

from ..helpers import REPO

CONFIGS = REPO / 'configs' / 'kcl'


def naive_balfeat(q, k, queue, queue_labels, labels, temperature, posk):
    """bingykang/BalFeat moco/kcl_builder.py@ba60412d KCL.forward (losstype v1) + SoftCrossEntropyLoss, anchor by
    anchor: soft targets 1 on the own key and on the first posk same-class queue slots (all of them with posk None),
    divided by their count; -sum t log softmax over [q.k, q.queue] / T, averaged over the batch."""
    total = 0.0
    for i in range(q.shape[0]):
        logits = torch.cat([(q[i] * k[i]).sum().reshape(1), queue @ q[i]]) / temperature
        positives = [j for j in range(queue.shape[0]) if int(queue_labels[j]) == int(labels[i])]
        if posk is not None:
            positives = positives[:posk]
        targets = torch.zeros_like(logits)
        targets[0] = 1.0
        targets[[1 + j for j in positives]] = 1.0
        targets = targets / targets.sum()
        total = total - (targets * F.log_softmax(logits, dim=0)).sum()
    return total / q.shape[0]


def data(b=6, size=10, d=8, classes=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    q = F.normalize(torch.randn(b, d, generator=g, dtype=dtype), dim=1)
    k = F.normalize(torch.randn(b, d, generator=g, dtype=dtype), dim=1)
    queue = F.normalize(torch.randn(size, d, generator=g, dtype=dtype), dim=1)
    queue_labels = torch.randint(-1, classes, (size, ), generator=g)
    labels = torch.randint(0, classes, (b, ), generator=g)
    return q, k, queue, queue_labels, labels


@pytest.mark.parametrize('posk,temperature,seed', [(6, 0.07, 0), (2, 0.2, 1), (None, 0.07, 2), (1, 0.5, 3)])
def test_matches_the_official_value_and_gradient(posk, temperature, seed):
    q, k, queue, queue_labels, labels = data(seed=seed)
    labels[0] = 99  # an anchor whose class is not in the queue: only its own key
    x = q.clone().requires_grad_()
    ref_x = q.clone().requires_grad_()
    out = KCLLoss(temperature=temperature, num_positives=posk)(query=x, key=k, queue_feats=queue,
                                                               queue_labels=queue_labels, labels=labels)
    ref = naive_balfeat(ref_x, k, queue, queue_labels, labels, temperature, posk)
    out['loss_kcl'].backward()
    ref.backward()
    torch.testing.assert_close(out['loss_kcl'].double(), ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, ref_x.grad, rtol=1e-4, atol=1e-6)


def test_empty_queue_is_moco_infonce_and_no_sampling_is_supervised_moco():
    q, k, queue, _, labels = data()
    empty = torch.full((10, ), -1)
    loss = KCLLoss(temperature=0.2)(query=q, key=k, queue_feats=queue, queue_labels=empty, labels=labels)['loss_kcl']
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], dim=1) / 0.2
    torch.testing.assert_close(loss.double(), F.cross_entropy(logits, torch.zeros(6, dtype=torch.long)))
    # num_positives=None: every same-class slot, whatever the sampling
    _, _, _, queue_labels, _ = data()
    for sampling in ('first', 'random'):
        mask = KCLLoss(num_positives=None, sampling=sampling).positives(queue_labels, labels)
        torch.testing.assert_close(mask, (labels[:, None] == queue_labels[None, :]).float())


def test_hand_computed():
    # one anchor, q = k, a queue of two slots: one of its class (orthogonal), one other
    q = torch.tensor([[1.0, 0.0]])
    queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    out = KCLLoss(temperature=1.0)(query=q, key=q, queue_feats=queue, queue_labels=torch.tensor([0, 1]),
                                   labels=torch.tensor([0]))['loss_kcl']
    log_z = math.log(math.e + 1 + math.exp(-1))
    torch.testing.assert_close(out, torch.tensor(-((1 - log_z) + (0 - log_z)) / 2))


def test_selection():
    same = torch.tensor([[1, 0, 1, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0]], dtype=torch.bool)
    first = select_positives(same, 3, 'first')
    assert first.tolist() == [[1, 0, 1, 1, 0, 0, 0], [0] * 7, [0, 1, 0, 0, 0, 0, 0]]
    torch.manual_seed(0)
    counts = torch.zeros(7)
    for _ in range(400):
        sampled = select_positives(same, 3, 'random')
        assert (sampled <= same.float()).all()
        assert sampled.sum(1).tolist() == [3.0, 0.0, 1.0]
        counts += sampled[0]
    assert counts[~same[0]].sum() == 0
    assert (counts[same[0]] / 400 - 3 / 5).abs().max() < 0.1  # uniform: each of the 5 slots kept 3/5 of the time
    for _ in range(20):
        drawn = select_positives(same, 3, 'random', replacement=True)
        assert (drawn <= same.float()).all() and 1 <= drawn[0].sum() <= 3 and drawn[1].sum() == 0
    assert select_positives(same, 0).sum() == 0
    assert select_positives(same, None).tolist() == same.float().tolist()


def test_errors_name_the_value():
    q, k, queue, queue_labels, labels = data()
    with pytest.raises(ValueError, match="sampling must be one of .* got 'last'"):
        KCLLoss(sampling='last')
    with pytest.raises(ValueError, match="replacement=True needs sampling='random'"):
        KCLLoss(replacement=True)
    with pytest.raises(ValueError, match='num_positives must be >= 0 or None, got -1'):
        KCLLoss(num_positives=-1)
    with pytest.raises(ValueError, match='temperature must be > 0'):
        KCLLoss(temperature=0)
    with pytest.raises(ValueError, match=r'queue_feats must be \(K, 8\), got shape \(10, 4\)'):
        KCLLoss()(query=q, key=k, queue_feats=queue[:, :4], queue_labels=queue_labels, labels=labels)
    with pytest.raises(ValueError, match='5 labels for 6 queries'):
        KCLLoss()(query=q, key=k, queue_feats=queue, queue_labels=queue_labels, labels=labels[:5])
    assert isinstance(MODELS.build(dict(type='KCLLoss')), KCLLoss)


# ------------------------------------------------------------------------------------------- Digits-LT

def train_stage1(config, work_dir, iterations=2, load_from=None, cfg_options=None):
    """Stage 1 of a two-stage Digits-LT config (or a later contrastive stage, from ``load_from``) on 32 x iterations
    images, checkpoint saved; returns (loss, runner)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = str(work_dir)
    if load_from is not None:
        cfg.load_from = load_from
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_begin = 2
    cfg.train_dataloader.dataset.indices = 32 * iterations
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.message_hub.get_scalar('train/loss').current(), runner


@pytest.mark.slow
def test_digits_lt_two_stages(cls_workspace, tmp_path, monkeypatch):
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    loss, runner = train_stage1(CONFIGS / 'kcl_lenet_1xb32_digits-lt_30e.py', tmp_path / 'stage1')
    assert math.isfinite(loss)
    model = runner.model
    assert type(model).__name__ == 'QueueContrastClassifier' and isinstance(model.contrast_loss, KCLLoss)
    # the pre-fill (the 2 batches of this 64-image subset) then 2 training steps
    assert int(model.queue.ptr) == 128 % model.queue.size and (model.queue.labels >= 0).sum() == 128
    for key in ('loss_kcl', 'loss_online_probe'):
        assert math.isfinite(runner.message_hub.get_scalar(f'train/{key}').current()), key
    ckpt = tmp_path / 'stage1' / 'epoch_1.pth'
    loss, metrics, probe = train_two_iterations(str(CONFIGS / 'kcl-linear_lenet_1xb32_digits-lt_10e.py'),
                                                tmp_path / 'probe', dict(load_from=str(ckpt)))
    assert math.isfinite(loss)
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    stage1 = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    torch.testing.assert_close(probe.model.backbone.state_dict()['features.0.weight'],
                               stage1['backbone.features.0.weight'])
