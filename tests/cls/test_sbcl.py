"""SBCL (ltmm.cls.losses.sbcl_loss, ltmm.cls.hooks.sbcl_cluster_hook): the loss against a per-anchor transcription of
the official SupConLoss_rank (contrastive.md §5.1), the clustering rules, the state through a checkpoint, and the
Digits-LT configs."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.runner.checkpoint import load_state_dict
from mmpretrain.registry import HOOKS, MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks.sbcl_cluster_hook import SBCLClusterHook, cluster_subclasses, cosine_kmeans
from ltmm.cls.losses import SBCLLoss, SupConLoss, sbcl_loss
from ltmm.cls.losses.sbcl_loss import class_temperatures, subclass_counts

from ..helpers import REPO

CONFIGS = REPO / 'configs' / 'sbcl'


def naive_sbcl(features, labels, subs, tau, t_sub=0.1, base_t=0.07, gamma=0.25):
    """One anchor at a time: the subclass term (positives same subclass, denominator all non-self, at t_sub, times
    t_sub / base_t) and the class term (positives same class other subclass plus own other views, denominator the
    columns outside the anchor's subclass plus own other views, at tau[y_i], times gamma)."""
    batch, views = features.shape[:2]
    z = torch.cat(features.unbind(1))
    y, s, idx = labels.repeat(views), subs.repeat(views), torch.arange(batch).repeat(views)
    n = len(z)
    total = 0.0
    for i in range(n):
        others = [j for j in range(n) if j != i]
        log_den = torch.logsumexp(torch.stack([z[i] @ z[j] / t_sub for j in others]), 0)
        pos = [j for j in others if s[j] == s[i]]
        m_sub = sum(z[i] @ z[j] / t_sub - log_den for j in pos) / len(pos) if pos else 0.0
        t = tau[y[i]]
        own = [j for j in others if idx[j] == idx[i]]
        den = [j for j in others if s[j] != s[i] or j in own]
        log_den = torch.logsumexp(torch.stack([z[i] @ z[j] / t for j in den]), 0)
        pos = [j for j in others if (y[j] == y[i] and s[j] != s[i]) or j in own]
        m_cls = sum(z[i] @ z[j] / t - log_den for j in pos) / len(pos) if pos else 0.0
        total = total - t_sub / base_t * m_sub - gamma * m_cls
    return total / n


def unit(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize('seed', [0, 1])
def test_matches_the_per_anchor_transcription_value_and_gradient(seed):
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 0, 1])
    subs = torch.tensor([0, 1, 0, 2, 2, 3, 1, 2])
    tau = torch.tensor([0.08, 0.11, 0.1], dtype=torch.float64)
    a = unit(8, 2, 5, seed=seed).requires_grad_()
    b = a.detach().clone().requires_grad_()
    ours = sbcl_loss(a, labels, subs, tau)
    ref = naive_sbcl(b, labels, subs, tau)
    torch.testing.assert_close(ours, ref.float(), rtol=1e-5, atol=1e-6)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)


def test_one_subclass_per_class_is_supcon_plus_the_own_view_term():
    feats = unit(6, 2, 4, seed=3).float()
    labels = torch.tensor([0, 1, 0, 2, 1, 0])
    tau = torch.full((3, ), 0.1)
    # with gamma 0 only the subclass term is left: SupCon over class labels (T 0.1, base 0.07)
    torch.testing.assert_close(sbcl_loss(feats, labels, labels, tau, gamma=0.0),
                               SupConLoss(temperature=0.1, base_temperature=0.07)(feats, labels))
    # the class term then has the own other view as the only positive, over the columns of the other classes
    z = torch.cat(feats.unbind(1))
    y = labels.repeat(2)
    own = torch.arange(12).roll(6)
    logits = z @ z.t() / 0.1
    keep = (y[:, None] != y[None, :])
    keep[torch.arange(12), own] = True
    log_p = logits[torch.arange(12), own] - torch.logsumexp(logits.masked_fill(~keep, -math.inf), 1)
    torch.testing.assert_close(sbcl_loss(feats, labels, labels, tau) - sbcl_loss(feats, labels, labels, tau, gamma=0),
                               -0.25 * log_p.mean(), rtol=1e-5, atol=1e-6)


def test_before_clustering_the_module_is_plain_supcon_at_its_temperature():
    feats = unit(5, 2, 4, seed=4).float()
    labels = torch.tensor([0, 1, 1, 2, 0])
    torch.testing.assert_close(SBCLLoss(3)(feats, labels), SupConLoss(0.1, base_temperature=0.1)(feats, labels))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='num_classes'):
        SBCLLoss(0)
    with pytest.raises(ValueError, match='outside the 2 class temperatures'):
        sbcl_loss(unit(2, 2, 3).float(), torch.tensor([0, 2]), torch.tensor([0, 1]), torch.ones(2))
    with pytest.raises(ValueError, match=r'counts \[2, 0\]'):
        cluster_subclasses(unit(2, 3), torch.tensor([0, 0]), 2)
    loss = SBCLLoss(2)
    loss.set_clusters(torch.tensor([0, 1, 2]), torch.ones(2))
    with pytest.raises(ValueError, match='sample index 3'):
        loss(unit(1, 2, 3).float(), torch.tensor([0]), torch.tensor([3]))
    with pytest.raises(ValueError, match='sample_idx'):
        loss(unit(1, 2, 3).float(), torch.tensor([0]))


def test_cluster_size_rule():
    # CIFAR-100-LT IF100: 500 ... 5 images, cluster 10 -> 50 subclasses for the head, 1 below 20 images
    counts = np.array([500, 250, 55, 20, 19, 5])
    assert subclass_counts(counts, 10).tolist() == [50, 25, 5, 2, 1, 1]
    # n_min larger than the cluster size wins; ImageNet-LT's cluster 20 gives 64 for 1280 images
    assert subclass_counts(np.array([300, 30]), 10).tolist() == [10, 1]
    assert subclass_counts(np.array([1280, 5]), 20).tolist() == [64, 1]
    with pytest.raises(ValueError, match='positive'):
        subclass_counts(np.array([3, 0]))


def test_clustering_is_deterministic_and_global_ids_follow_the_classes():
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0] * 40 + [1] * 12 + [2] * 25)[torch.randperm(77, generator=g)]  # not class-sorted
    feats = F.normalize(torch.randn(77, 8, generator=g), dim=1)
    sub, tau = cluster_subclasses(feats, labels, 3, cluster_size=10, seed=5)
    sub2, tau2 = cluster_subclasses(feats, labels, 3, cluster_size=10, seed=5)
    assert torch.equal(sub, sub2) and torch.equal(tau, tau2)
    # k = 40 // 12 = 3, 12 // 12 = 1, 25 // 12 = 2: ids 0-2 for class 0, 3 for class 1, 4-5 for class 2
    assert set(sub[labels == 0].tolist()) == {0, 1, 2}
    assert set(sub[labels == 1].tolist()) == {3}
    assert set(sub[labels == 2].tolist()) == {4, 5}
    assert tau[1] == pytest.approx(0.1)  # a single-subclass class keeps the base temperature


def test_cosine_kmeans_separates_clear_clusters():
    g = torch.Generator().manual_seed(1)
    centres = torch.eye(3, 6)
    x = torch.cat([c + 0.05 * torch.randn(10, 6, generator=g) for c in centres])
    ids = cosine_kmeans(x, 3, torch.Generator().manual_seed(0))
    assert all(len(set(ids[10 * i:10 * i + 10].tolist())) == 1 for i in range(3))
    assert len(set(ids.tolist())) == 3


def test_class_temperatures_by_hand():
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    dens = np.array([math.sqrt(0.5), 0.0, math.sqrt(0.02)]) / math.log(12)
    dens = np.clip(dens, np.percentile(dens, 20), np.percentile(dens, 80))
    expected = 0.1 * dens / dens.mean()
    expected[2] = 0.1
    torch.testing.assert_close(class_temperatures(feats, labels, np.array([2, 2, 1])),
                               torch.tensor(expected, dtype=torch.float32))


def test_clustering_state_round_trips_through_a_checkpoint(tmp_path):
    loss = MODELS.build(dict(type='SBCLLoss', num_classes=3))
    loss.set_clusters(torch.tensor([0, 3, 1, 2, 0]), torch.tensor([0.09, 0.12, 0.1]))
    torch.save(dict(state_dict=loss.state_dict()), tmp_path / 'ckpt.pth')
    fresh = SBCLLoss(3)
    load_state_dict(fresh, torch.load(tmp_path / 'ckpt.pth')['state_dict'], strict=True)
    assert torch.equal(fresh.sub_labels, loss.sub_labels) and torch.equal(fresh.class_tau, loss.class_tau)
    feats = unit(3, 2, 4).float()
    labels, idx = torch.tensor([0, 2, 1]), torch.tensor([4, 1, 3])
    torch.testing.assert_close(fresh(feats, labels, idx), loss(feats, labels, idx))


def test_hook_schedule_and_model_passes_sample_indices():
    hook = HOOKS.build(dict(type='SBCLClusterHook', interval=10, start_epoch=10))
    assert isinstance(hook, SBCLClusterHook)
    model = MODELS.build(dict(
        type='MultiViewContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
        neck=dict(type='MLPNeck', channels=(120, 16)), contrast_loss=dict(type='SBCLLoss', num_classes=2),
        contrast_views=(0, 1), data_preprocessor=dict(mean=[0.0], std=[1.0])))
    model.contrast_loss.set_clusters(torch.tensor([0, 1, 2, 2]), torch.tensor([0.1, 0.1]))
    views = [torch.randn(2, 1, 32, 32) for _ in range(2)]
    samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(y) for i, y in ((3, 1), (0, 0))]
    losses = model.loss(views, samples)
    z = F.normalize(model.neck((model.extract_feat(torch.cat(views))[-1], ))[-1], dim=1)
    expected = sbcl_loss(torch.stack([z[:2], z[2:]], 1), torch.tensor([1, 0]), torch.tensor([2, 0]),
                         torch.full((2, ), 0.1))
    torch.testing.assert_close(losses['loss_contrast'], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='sample_idx'):  # needed once clustered
        model.loss(views, [DataSample().set_gt_label(1), DataSample().set_gt_label(0)])


def train_stage1(work_dir):
    """One epoch of the stage-1 Digits-LT config on the whole training set (the clustering needs every class),
    clustering before it; checkpoint saved. Returns (loss, runner)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(CONFIGS / 'sbcl_lenet_1xb32_digits-lt_30e.py'))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks[0].start_epoch = 0
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.message_hub.get_scalar('train/loss').current(), runner


@pytest.mark.slow
def test_digits_lt_two_stages(cls_workspace, tmp_path, monkeypatch):
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    loss, runner = train_stage1(tmp_path / 'stage1')
    assert math.isfinite(loss)
    sbcl = runner.model.contrast_loss
    assert isinstance(sbcl, SBCLLoss) and sbcl.sub_labels.numel() == len(runner.train_dataloader.dataset)
    assert int(sbcl.sub_labels.max()) + 1 > 10  # the head classes are split
    ckpt = tmp_path / 'stage1' / 'epoch_1.pth'
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert torch.equal(state['contrast_loss.sub_labels'], sbcl.sub_labels)
    loss, metrics, probe = train_two_iterations(str(CONFIGS / 'sbcl-linear_lenet_1xb32_digits-lt_10e.py'),
                                                tmp_path / 'probe', dict(load_from=str(ckpt)))
    assert math.isfinite(loss)
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    torch.testing.assert_close(probe.model.backbone.state_dict()['features.0.weight'],
                               state['backbone.features.0.weight'])
