"""The labelled queue (initial state, wrap-around, extra id columns, the K % batch error, checkpoints) and the
QueueContrastClassifier (what the contrastive loss receives, the momentum update and the key encoder's own BatchNorm
statistics, enqueueing, prediction, checkpoints, errors); on two gloo processes the queue holds the same keys on both
ranks and equals the single-process run on the concatenated batch (shuffle-BN on)."""
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.classifiers import LabelledQueue, QueueContrastClassifier

from ..helpers import free_port, gloo_process_group

# ------------------------------------------------------------------------------------------------ the queue


def test_initial_state():
    queue = LabelledQueue(8, 4, num_extra_ids=2)
    torch.testing.assert_close(queue.feats.norm(dim=1), torch.ones(8))
    assert queue.labels.tolist() == [-1] * 8 and queue.extra_ids.shape == (8, 2) and (queue.extra_ids == -1).all()
    assert int(queue.ptr) == 0
    assert set(queue.state_dict()) == {'feats', 'labels', 'extra_ids', 'ptr'}


def test_enqueue_wraps_around():
    queue = LabelledQueue(6, 2, num_extra_ids=1)
    for step in range(4):
        keys = torch.full((3, 2), float(step))
        queue.enqueue(keys, torch.tensor([step, step, step]), torch.tensor([10 + step] * 3))
        assert int(queue.ptr) == (3 * (step + 1)) % 6
    # steps 2 and 3 overwrote steps 0 and 1
    assert queue.labels.tolist() == [2, 2, 2, 3, 3, 3]
    assert queue.extra_ids[:, 0].tolist() == [12, 12, 12, 13, 13, 13]
    torch.testing.assert_close(queue.feats[:, 0], torch.tensor([2.0, 2, 2, 3, 3, 3]))


def test_enqueue_errors_name_the_value():
    queue = LabelledQueue(8, 2)
    with pytest.raises(ValueError, match='K=8 must be a multiple of the global batch 3'):
        queue.enqueue(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match=r'keys must be \(B, 2\), got shape \(4, 3\)'):
        queue.enqueue(torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ValueError, match='3 labels for 4 keys'):
        queue.enqueue(torch.zeros(4, 2), torch.zeros(3))
    with pytest.raises(ValueError, match='stores 0 extra id column'):
        queue.enqueue(torch.zeros(4, 2), torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match='size=0'):
        LabelledQueue(0, 2)


def test_queue_checkpoint_round_trip():
    queue = LabelledQueue(4, 3, num_extra_ids=1)
    queue.enqueue(F.normalize(torch.randn(2, 3), dim=1), torch.tensor([5, 7]), torch.tensor([1, 2]))
    other = LabelledQueue(4, 3, num_extra_ids=1)
    other.load_state_dict(queue.state_dict())
    for name, buf in queue.state_dict().items():
        torch.testing.assert_close(other.state_dict()[name], buf)
    assert int(other.ptr) == 2


# ------------------------------------------------------------------------------------------- the classifier

class RecordingInfoNCE(nn.Module):
    """MoCo's InfoNCE over [k+, queue] that records what it receives."""

    def __init__(self, temperature=0.2):
        super().__init__()
        self.temperature = temperature
        self.calls = []

    def forward(self, query, key, queue_feats, queue_labels, labels, cls_score, pooled, **extra):
        self.calls.append(dict(query=query.detach(), key=key.clone(), queue_feats=queue_feats.clone(),
                               queue_labels=queue_labels.clone(), labels=labels.clone(), cls_score=cls_score,
                               pooled=pooled.detach(), **extra))
        logits = torch.cat([(query * key).sum(1, keepdim=True), query @ queue_feats.T], dim=1) / self.temperature
        return dict(loss_contrast=F.cross_entropy(logits, torch.zeros(len(query), dtype=torch.long)))


def lenet_model(queue_size=8, head=False, **kw):
    cfg = dict(type='QueueContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
               neck=dict(type='MoCoV2Neck', in_channels=120, hid_channels=32, out_channels=16, with_avg_pool=False),
               contrast_loss=dict(type='SupConLoss'), queue_size=queue_size, feat_dim=16,
               data_preprocessor=dict(mean=[0.0], std=[1.0]), **kw)
    if head:
        cfg['head'] = dict(type='LinearClsHead', num_classes=3, in_channels=120)
    model = MODELS.build(cfg)
    assert isinstance(model, QueueContrastClassifier)
    model.contrast_loss = RecordingInfoNCE()
    return model


def resnet_model(momentum=0.9):
    model = MODELS.build(dict(
        type='QueueContrastClassifier', backbone=dict(type='ResNet32CIFAR'),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=16, with_avg_pool=False),
        contrast_loss=dict(type='SupConLoss'), queue_size=8, feat_dim=16, momentum=momentum))
    model.contrast_loss = RecordingInfoNCE()
    return model


def first_bn(module):
    return next(m for m in module.modules() if isinstance(m, nn.BatchNorm2d))


def batch(n=4, seed=0, channels=1, labels=None):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, channels, 32, 32, generator=g) for _ in range(2)]
    labels = torch.randint(0, 3, (n,), generator=g) if labels is None else torch.as_tensor(labels)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return views, samples, labels


def test_loss_receives_the_queue_and_enqueues_the_keys():
    torch.manual_seed(0)
    model = lenet_model(head=True)
    views, samples, labels = batch()
    losses = model.loss(views, samples)
    assert set(losses) == {'loss_contrast'}
    call = model.contrast_loss.calls[0]
    assert call['queue_labels'].tolist() == [-1] * 8  # an empty queue at the start
    torch.testing.assert_close(call['query'].norm(dim=1), torch.ones(4))
    torch.testing.assert_close(call['key'].norm(dim=1), torch.ones(4))
    assert call['cls_score'].shape == (4, 3) and call['pooled'].shape == (4, 120)
    assert call['labels'].tolist() == labels.tolist()
    # the first momentum update copies the query encoder: with no BatchNorm, k is q's map of the key view
    with torch.no_grad():
        expected_k = F.normalize(model.neck(model.extract_feat(views[1]))[0], dim=1)
    torch.testing.assert_close(call['key'], expected_k)
    torch.testing.assert_close(model.queue.feats[:4], expected_k)
    assert model.queue.labels.tolist() == labels.tolist() + [-1] * 4 and int(model.queue.ptr) == 4
    losses['loss_contrast'].backward()  # the queue the loss saw is not modified in place by the enqueue
    model.loss(*batch(seed=1)[:2])
    assert int(model.queue.ptr) == 0 and (model.queue.labels >= 0).all()


def test_momentum_update_and_own_batchnorm_statistics():
    torch.manual_seed(0)
    model = resnet_model(momentum=0.9)
    model.train()
    views, samples, _ = batch(channels=3)
    model.loss(views, samples)
    key_encoder = model.momentum_encoder.module
    query = dict(model._query_encoder().named_parameters())
    for name, p in key_encoder.named_parameters():  # the first update copies
        torch.testing.assert_close(p, query[name])
        assert not p.requires_grad
    before = {name: p.clone() for name, p in key_encoder.named_parameters()}
    key_bn = first_bn(key_encoder[0]).running_mean.clone()
    with torch.no_grad():
        for p in model._query_encoder().parameters():
            p.add_(0.5)
        first_bn(model.backbone).running_mean.fill_(100.0)  # must not leak into the key encoder
    model.loss(*batch(seed=1, channels=3)[:2])
    for name, p in key_encoder.named_parameters():
        torch.testing.assert_close(p, 0.9 * before[name] + 0.1 * query[name])
    assert first_bn(key_encoder[0]).running_mean.abs().max() < 10
    assert not torch.equal(first_bn(key_encoder[0]).running_mean, key_bn)  # its own train-mode forward updated it
    assert int(model.momentum_encoder.steps) == 2


def test_predict_and_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = lenet_model(head=True)
    model.loss(*batch()[:2])
    model.eval()
    views, samples, _ = batch(seed=2)
    preds = model.predict(views[0], samples)
    assert preds[0].pred_score.shape == (3, )
    no_head = lenet_model()
    feats = no_head.predict(views[0])
    assert feats[0].feats.shape == (120, )
    torch.save(model.state_dict(), tmp_path / 'ckpt.pth')
    torch.manual_seed(1)
    other = lenet_model(head=True)
    other.load_state_dict(torch.load(tmp_path / 'ckpt.pth'))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[name], value, msg=name)
    assert int(other.queue.ptr) == 4 and int(other.momentum_encoder.steps) == 1


def test_online_probe_trains_the_head_on_detached_features():
    torch.manual_seed(0)
    model = lenet_model(head=True, online_probe=True)
    losses = model.loss(*batch()[:2])
    assert set(losses) == {'loss_contrast', 'loss_online_probe'}
    assert model.contrast_loss.calls[0]['cls_score'] is None
    losses['loss_online_probe'].backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.head.fc.weight.grad is not None
    with pytest.raises(ValueError, match='online_probe=True needs a head'):
        lenet_model(online_probe=True)


def test_extra_id_fields_reach_the_loss_and_the_queue():
    torch.manual_seed(0)
    model = lenet_model(extra_id_fields=('subclass', ))
    views, samples, _ = batch()
    for i, sample in enumerate(samples):
        sample.set_field(torch.tensor([10 + i]), 'subclass')
    model.loss(views, samples)
    call = model.contrast_loss.calls[0]
    assert call['extra_ids'][:, 0].tolist() == [10, 11, 12, 13]
    assert call['queue_extra_ids'].shape == (8, 1)
    assert model.queue.extra_ids[:4, 0].tolist() == [10, 11, 12, 13]


def test_classifier_errors():
    model = lenet_model()
    views, samples, _ = batch()
    with pytest.raises(ValueError, match=r'\[x_query, x_key\].*Tensor'):
        model.loss(views[0], samples)
    with pytest.raises(ValueError, match='momentum m'):
        lenet_model(momentum=1.0)
    with pytest.raises(ValueError, match='data sample 0 has no subclass'):
        lenet_model(extra_id_fields=('subclass', )).loss(views, samples)
    bad = lenet_model(queue_size=6)
    with pytest.raises(ValueError, match='K=6 must be a multiple of the global batch 4'):
        bad.loss(views, samples)


# ------------------------------------------------------------------------------- two ranks (gloo)

GLOBAL_BATCH, STEPS = 4, 3


def queue_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        torch.manual_seed(0)
        model = lenet_model(queue_size=8)
        per_rank = GLOBAL_BATCH // world_size
        for step in range(STEPS):
            views, samples, _ = batch(n=GLOBAL_BATCH, seed=step)
            rows = slice(rank * per_rank, (rank + 1) * per_rank)
            model.loss([v[rows] for v in views], samples[rows])
        torch.save({name: buf for name, buf in model.queue.state_dict().items()}, Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_queue_over_two_ranks_equals_one_process(tmp_path):
    mp.start_processes(queue_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    torch.manual_seed(0)
    single = lenet_model(queue_size=8)
    for step in range(STEPS):
        views, samples, _ = batch(n=GLOBAL_BATCH, seed=step)
        single.loss(views, samples)
    ranks = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    for name, buf in single.queue.state_dict().items():
        for rank in ranks:
            torch.testing.assert_close(rank[name], buf, msg=name)
    assert int(single.queue.ptr) == (STEPS * GLOBAL_BATCH) % 8
