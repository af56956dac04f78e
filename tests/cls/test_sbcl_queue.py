"""SBCL's ImageNet-LT path (ltmm.cls.losses.sbcl_loss.SBCLQueueLoss on QueueContrastClassifier): the queue loss
against a per-anchor transcription of the official moco/loss.py SupConLoss_rank (value and gradient), subclass ids in
the queue (stale after a re-clustering, as the official queue_l), phase 2 loading phase 1's id-less queue, the
clustering by the key encoder, the state through --resume and a Digits-LT CPU smoke."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.runner.checkpoint import load_state_dict
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.classifiers.labelled_queue import LabelledQueue
from ltmm.cls.losses import SBCLQueueLoss, sbcl_queue_loss

from ..helpers import REPO


def naive_queue_sbcl(q, k, queue, queue_y, queue_s, y, s, t=0.07, t_cls=0.12, gamma=0.2):
    """One anchor at a time, column 0 the own key, columns 1..K the queue: the subclass term (positives: own key and
    same-subclass slots, log-softmax over every column at t), the class term (positives: own key and same-class
    slots of another subclass; denominator: own key and the slots of another subclass; at t_cls), L_sub + gamma L_cls,
    both averaged over the anchors."""
    total_sub, total_cls = 0.0, 0.0
    for i in range(len(q)):
        cols = [q[i] @ k[i]] + [q[i] @ queue[j] for j in range(len(queue))]
        sub = [0] + [j + 1 for j in range(len(queue)) if queue_s[j] == s[i]]
        den = [0] + [j + 1 for j in range(len(queue)) if queue_s[j] != s[i]]
        pos = [0] + [j + 1 for j in range(len(queue)) if queue_y[j] == y[i] and queue_s[j] != s[i]]
        log_den = torch.logsumexp(torch.stack([c / t for c in cols]), 0)
        total_sub = total_sub - sum(cols[j] / t - log_den for j in sub) / len(sub)
        log_den = torch.logsumexp(torch.stack([cols[j] / t_cls for j in den]), 0)
        total_cls = total_cls - sum(cols[j] / t_cls - log_den for j in pos) / len(pos)
    return (total_sub + gamma * total_cls) / len(q)


def unit(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize('seed', [0, 1])
def test_matches_the_per_anchor_transcription_value_and_gradient(seed):
    y, s = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 2, 3])
    # -1: slots never written (or written in the KCL phase); (class 0, subclass 1) beside (class 0, subclass 0): a
    # stale id of class 0; class 1 / subclass 2 and class 2 / subclass 3
    queue_y = torch.tensor([-1, 0, 0, 1, 2, 0, -1, 1, 0, 2])
    queue_s = torch.tensor([-1, 0, 1, 2, 3, 0, -1, 2, 1, 3])
    queue = unit(10, 6, seed=seed + 10)
    q = unit(4, 6, seed=seed).requires_grad_()
    q2 = q.detach().clone().requires_grad_()
    k = unit(4, 6, seed=seed + 20)
    ours = sbcl_queue_loss(q, k, queue, queue_y, queue_s, y, s)
    ref = naive_queue_sbcl(q2, k, queue, queue_y, queue_s, y, s)
    torch.testing.assert_close(ours, ref.float(), rtol=1e-5, atol=1e-6)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(q.grad, q2.grad, rtol=1e-4, atol=1e-6)
    other = sbcl_queue_loss(q.detach(), k, queue, queue_y, queue_s, y, s, 0.1, 0.2, 0.5)
    torch.testing.assert_close(other, naive_queue_sbcl(q.detach(), k, queue, queue_y, queue_s, y, s, 0.1, 0.2,
                                                       0.5).float(), rtol=1e-5, atol=1e-6)


def test_hand_computed_with_one_queue_slot():
    # q . k = 1, one queue slot of the same subclass at q . u = 0: L_sub = -(1/2)[log p_0 + log p_1] with
    # p = softmax([1, 0] / T); the class term has the own key only in its numerator and denominator: 0
    q, k, u = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    loss = sbcl_queue_loss(q, k, u, torch.tensor([0]), torch.tensor([5]), torch.tensor([0]), torch.tensor([5]),
                           temperature=0.5)
    p = torch.softmax(torch.tensor([2.0, 0.0]), 0)
    torch.testing.assert_close(loss, -(p.log().sum()) / 2)


def test_errors_name_the_value():
    loss = SBCLQueueLoss(3)
    with pytest.raises(RuntimeError, match='no clustering'):
        loss.queue_ids(torch.tensor([[0]]))
    loss.set_clusters(torch.tensor([0, 1, 2]), torch.full((3, ), 0.07))
    with pytest.raises(ValueError, match='sample index 3'):
        loss.queue_ids(torch.tensor([[3]]))
    q = unit(2, 4).float()
    with pytest.raises(ValueError, match='sample_idx'):
        loss(q, q, q, torch.tensor([0, 1]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='subclass ids'):
        sbcl_queue_loss(q, q, q, torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='temperatures'):
        SBCLQueueLoss(3, class_temperature=0.0)


def build_model(queue_size=4):
    return MODELS.build(dict(
        type='QueueContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
        neck=dict(type='LinearNeck', in_channels=120, out_channels=8, norm_cfg=None),
        contrast_loss=dict(type='SBCLQueueLoss', num_classes=2), queue_size=queue_size, feat_dim=8, momentum=0.99,
        extra_id_fields=('sample_idx', ), data_preprocessor=dict(mean=[0.0], std=[1.0])))


def step(model, idx, labels):
    views = [torch.randn(len(idx), 1, 32, 32) for _ in range(2)]
    samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(y) for i, y in zip(idx, labels)]
    return model.loss(views, samples)


def test_queue_holds_the_subclass_ids_of_their_clustering_and_stale_ones_stay():
    torch.manual_seed(0)
    model = build_model()
    with pytest.raises(RuntimeError, match='no clustering'):
        step(model, [0, 1], [0, 1])
    model.contrast_loss.set_clusters(torch.tensor([0, 1, 2, 1]), torch.full((2, ), 0.07))
    losses = step(model, [1, 2], [0, 1])
    assert math.isfinite(losses['loss_sbcl'].item())
    assert model.queue.extra_ids[:, 0].tolist() == [1, 2, -1, -1] and model.queue.labels.tolist() == [0, 1, -1, -1]
    # re-clustering: the slots written before keep their ids (the official queue_l), new keys get the new ones
    model.contrast_loss.set_clusters(torch.tensor([1, 0, 2, 2]), torch.full((2, ), 0.07))
    step(model, [1, 3], [0, 1])
    assert model.queue.extra_ids[:, 0].tolist() == [1, 2, 0, 2]


def test_the_loss_sees_the_queue_before_the_enqueue():
    torch.manual_seed(1)
    model = build_model()
    model.contrast_loss.set_clusters(torch.tensor([0, 1, 2, 1]), torch.full((2, ), 0.07))
    step(model, [0, 1], [0, 0])
    queue = model.queue.feats.clone(), model.queue.labels.clone(), model.queue.extra_ids[:, 0].clone()
    views = [torch.randn(2, 1, 32, 32) for _ in range(2)]
    samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(y) for i, y in ((3, 1), (0, 0))]
    key_encoder = model.momentum_encoder
    losses = model.loss(views, samples)
    q = F.normalize(model.neck(model.extract_feat(views[0]))[-1], dim=1)
    with torch.no_grad():
        k = F.normalize(key_encoder(views[1])[-1], dim=1)
    expected = sbcl_queue_loss(q, k, queue[0], queue[1], queue[2], torch.tensor([1, 0]), torch.tensor([1, 0]))
    torch.testing.assert_close(losses['loss_sbcl'], expected, rtol=1e-5, atol=1e-6)


def test_phase_two_loads_the_id_less_queue_of_phase_one_as_minus_one():
    phase1 = LabelledQueue(4, 3)
    phase1.enqueue(F.normalize(torch.randn(2, 3), dim=1), torch.tensor([0, 1]))
    phase2 = LabelledQueue(4, 3, num_extra_ids=1)
    phase2.extra_ids.fill_(7)
    load_state_dict(phase2, phase1.state_dict(), strict=True)
    assert torch.equal(phase2.feats, phase1.feats) and torch.equal(phase2.labels, phase1.labels)
    assert (phase2.extra_ids == -1).all() and int(phase2.ptr) == 2


def test_hook_clusters_the_key_encoder_features():
    from ltmm.cls.hooks.sbcl_cluster_hook import SBCLClusterHook

    torch.manual_seed(2)
    model = build_model()
    model.contrast_loss.set_clusters(torch.tensor([0, 1, 2, 1]), torch.full((2, ), 0.07))
    step(model, [0, 1], [0, 0])  # the key encoder now differs from the query encoder (its own BN statistics)
    for p in model.momentum_encoder.module.parameters():
        p.add_(0.1)
    images = torch.randn(3, 1, 32, 32)
    data = [dict(inputs=[images[i], images[i]], data_samples=DataSample().set_gt_label(i % 2)) for i in range(3)]
    from mmengine.dataset import default_collate
    feats, labels = SBCLClusterHook(batch_size=2).features(model, data, default_collate)
    model.eval()
    with torch.no_grad():
        expected = F.normalize(model.momentum_encoder.module(images)[-1], dim=1)
    torch.testing.assert_close(feats, expected, rtol=1e-5, atol=1e-6)
    assert labels.tolist() == [0, 1, 0]


def test_state_round_trips_through_a_checkpoint(tmp_path):
    model = build_model()
    model.contrast_loss.set_clusters(torch.tensor([0, 1, 2, 1]), torch.full((2, ), 0.07))
    step(model, [1, 2], [0, 1])
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ckpt.pth')
    fresh = build_model()
    load_state_dict(fresh, torch.load(tmp_path / 'ckpt.pth')['state_dict'], strict=True)
    for name in ('contrast_loss.sub_labels', 'queue.extra_ids', 'queue.labels', 'queue.ptr', 'queue.feats'):
        assert torch.equal(fresh.state_dict()[name], model.state_dict()[name]), name


def digits_cfg(work_dir, max_epochs):
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / 'configs' / 'kcl' / 'kcl_lenet_1xb32_digits-lt_30e.py'))
    cfg.merge_from_dict(dict(model=dict(
        extra_id_fields=('sample_idx', ),
        contrast_loss=dict(_delete_=True, type='SBCLQueueLoss', num_classes=cfg.num_classes))))
    cfg.custom_hooks = [dict(type='SBCLClusterHook', interval=5, start_epoch=0, cluster_size=20, batch_size=64)]
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_begin = max_epochs + 1
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.param_scheduler = []
    return cfg


@pytest.mark.slow
def test_digits_lt_smoke_and_resume(cls_workspace, tmp_path, monkeypatch):
    """One epoch of the queue path on the whole Digits-LT training set (the clustering needs every class), then a
    --resume of its checkpoint: clustering, queue and subclass ids come back, and nothing re-clusters."""
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)
    runner = Runner.from_cfg(digits_cfg(tmp_path, 1))
    runner.train()
    assert math.isfinite(runner.message_hub.get_scalar('train/loss_sbcl').current())
    model = runner.model
    assert model.contrast_loss.sub_labels.numel() == len(runner.train_dataloader.dataset)
    assert (model.queue.extra_ids >= 0).all()  # the epoch filled the 192 slots with clustered ids
    same = model.queue.extra_ids[:, 0][None] == model.contrast_loss.sub_labels[:, None]
    assert same.any(dim=0).all()
    saved = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(('queue.', 'contrast_loss.'))}
    cfg = digits_cfg(tmp_path / 'resumed', 1)
    cfg.resume, cfg.load_from = True, str(tmp_path / 'epoch_1.pth')
    resumed = Runner.from_cfg(cfg)
    resumed.train()  # epoch 1 of 1 is done: resumes, trains nothing
    state = resumed.model.state_dict()
    for name, value in saved.items():
        assert torch.equal(state[name], value), name
