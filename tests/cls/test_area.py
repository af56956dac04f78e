"""AREA (``AREALoss``, ``AREAHook``): the class means, effective areas and weights against a naive transcription of
the official ``get_feature_mean`` / ``calculate_eff_weight`` and a hand-computed case, the loss value and gradient
against the official weighted ``F.cross_entropy``, the deferred switch, the state through a checkpoint, resume, the
statistics over two gloo ranks, the hook on a real model and loaders, and the Digits-LT config training on CPU."""
import math
from pathlib import Path
from types import SimpleNamespace
from typing import List, Tuple

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import AREAHook, AREALoss
from ltmm.cls.losses.area_loss import (
    area_weights,
    batch_effective_areas,
    centred_unit_sums,
    feature_class_means,
    summed_effective_area,
)

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

COUNTS = [9, 6, 4, 2, 0]  # the last class has no training sample
C = len(COUNTS)


def stats(counts=COUNTS):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(**kwargs) -> AREALoss:
    return MODELS.build(dict(type='AREALoss', class_stats=stats(), **kwargs))


# ------------------------------------------------------------------ a naive transcription of the official code

def official_feature_mean(batches, counts, dim):
    """``get_feature_mean``: per-sample sums into a (C, dim) table, divided by the training counts."""
    mean = torch.zeros(len(counts), dim)
    for feats, target in batches:
        for out, label in zip(feats, target):
            mean[label] = mean[label] + out
    return torch.div(mean, torch.tensor(counts).unsqueeze(1))


def official_eff_weight(batches, mean, num_classes):
    """``calculate_eff_weight``: per batch and class, R = cosines of the centred features (a zero norm product set to
    1), eff = 1 / (a^T R a) with a = 1/n, 1 for a single sample; summed over batches; weights 1/eff (0 where eff is 0),
    normalised to sum to C. Returns (weights, summed eff)."""
    eff_all = torch.zeros(num_classes)
    for feats, target in batches:
        centred = feats - mean[target]
        index = torch.unique(target)
        index2 = target.numpy()
        eff = torch.zeros(num_classes)
        for k in range(len(index)):
            rows = torch.squeeze(torch.from_numpy(np.argwhere(index2 == index[k].item())))
            member = centred[rows]
            if member.dim() == 1:
                eff[index[k]] = 1
            else:
                dots = torch.matmul(member, member.transpose(0, 1))
                norms = torch.unsqueeze(torch.sqrt(torch.mul(member, member).sum(axis=1)), 1)
                length = torch.mul(norms, norms.transpose(0, 1))
                length[length == 0] = 1
                r = torch.div(dots, length)
                num = member.size(0)
                a = torch.ones(1, num) / num
                b = torch.ones(num, 1) / num
                eff[index[k]] = 1 / torch.matmul(torch.matmul(a, r), b)
        eff_all = eff_all + eff
    weights = torch.where(eff_all > 0, 1 / eff_all, eff_all)
    return weights / torch.sum(weights) * num_classes, eff_all


def random_batches(seed: int, sizes=(7, 5, 6, 3), dim=4, counts=COUNTS) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """Batches over a shuffled set with ``counts`` samples per class (so every class but the empty one occurs)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([c for c, n in enumerate(counts) for _ in range(n)])
    labels = labels[torch.randperm(len(labels), generator=g)]
    assert sum(sizes) == len(labels)
    feats = torch.rand(len(labels), dim, generator=g) * 3  # post-ReLU features
    out, start = [], 0
    for size in sizes:
        out.append((feats[start:start + size], labels[start:start + size]))
        start += size
    return out


# ------------------------------------------------------------------ the statistics

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_means_areas_and_weights_match_the_official_code(seed):
    batches = random_batches(seed)
    mean = feature_class_means(batches, C)
    ref_mean = official_feature_mean(batches, COUNTS[:-1] + [1], 4)  # the official 0 / 0 of an empty class: 0 here
    torch.testing.assert_close(mean, ref_mean)
    second = random_batches(seed + 10)  # pass 2: a new order and new features
    area = summed_effective_area(second, mean)
    ref_weights, ref_area = official_eff_weight(second, mean, C)
    torch.testing.assert_close(area, ref_area, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(area_weights(area), ref_weights, rtol=1e-5, atol=1e-6)
    assert area[-1] == 0 and area_weights(area)[-1] == 0  # the class without samples
    assert area_weights(area).sum().item() == pytest.approx(C)


def test_hand_computed_case():
    # class means given: class 0 at (0, 0), class 1 at (2, 0), class 2 at (5, 5); class 3 never occurs.
    mean = torch.tensor([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [0.0, 0.0]])
    batch1 = (torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [4.0, 0.0], [1.0, 1.0]]), torch.tensor([0, 0, 1, 1, 2]))
    # class 0: two orthogonal centred features: rho = |(1, 1)|^2 / 4 = 1/2, E = 2 = 2 / (1 + cos 90)
    # class 1: (1, 0) and (2, 0), aligned: rho = 1, E = 1; class 2: a single sample, E = 1
    torch.testing.assert_close(batch_effective_areas(centred_unit_sums(*batch1, mean)),
                               torch.tensor([2.0, 1.0, 1.0, 0.0]))
    batch2 = (torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 0.0], [3.0, 0.0]]),
              torch.tensor([0, 0, 0, 1, 1]))
    # class 0: unit sum (0, 1) over 3 samples: rho = 1/9, E = 9; class 1: (-1, 0) and (1, 0) opposite: rho = 0, E = inf
    torch.testing.assert_close(batch_effective_areas(centred_unit_sums(*batch2, mean)),
                               torch.tensor([9.0, math.inf, 0.0, 0.0]))
    area = summed_effective_area([batch1, batch2], mean)
    torch.testing.assert_close(area, torch.tensor([11.0, math.inf, 1.0, 0.0]))
    # 1 / E = (1/11, 0, 1, 0), sum 12/11: w = 4 (1/11, 0, 1, 0) * 11/12 = (1/3, 0, 11/3, 0)
    torch.testing.assert_close(area_weights(area), torch.tensor([1 / 3, 0.0, 11 / 3, 0.0]))
    ref_weights, ref_area = official_eff_weight([batch1, batch2], mean, 4)
    torch.testing.assert_close(area, ref_area)
    torch.testing.assert_close(area_weights(area), ref_weights)
    # the pass-1 means over both batches: class 0 (1, 2) / 5, class 1 (11, 0) / 4, class 2 (1, 1), class 3 none
    means = feature_class_means([batch1, batch2], 4)
    torch.testing.assert_close(means, torch.tensor([[1 / 5, 2 / 5], [11 / 4, 0.0], [1.0, 1.0], [0.0, 0.0]]))


def test_zero_centred_features():
    mean = torch.tensor([[1.0, 1.0], [2.0, 2.0]])
    # class 0: two samples equal to the mean (the official cosines are 0 / 1 = 0): E = 1 / 0 = inf
    # class 1: a single sample equal to the mean: E = 1 (the official single-sample rule)
    feats, labels = torch.tensor([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]), torch.tensor([0, 0, 1])
    torch.testing.assert_close(batch_effective_areas(centred_unit_sums(feats, labels, mean)),
                               torch.tensor([math.inf, 1.0]))
    torch.testing.assert_close(official_eff_weight([(feats, labels)], mean, 2)[1], torch.tensor([math.inf, 1.0]))


def test_weight_errors_name_the_value():
    with pytest.raises(ValueError, match=r'-1.0\] at class index \[1\]'):
        area_weights(torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match='nan'):
        area_weights(torch.tensor([1.0, math.nan]))
    with pytest.raises(ValueError, match='no class has a positive finite area'):
        area_weights(torch.tensor([0.0, math.inf]))
    with pytest.raises(ValueError, match=r'shape \(2, 2\)'):
        area_weights(torch.ones(2, 2))
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 2\), got 0 .. 2'):
        centred_unit_sums(torch.ones(2, 3), torch.tensor([0, 2]), torch.zeros(2, 3))
    with pytest.raises(ValueError, match='no batch'):
        feature_class_means([], 3)


# ------------------------------------------------------------------ the loss

def reweighted(loss: AREALoss, area: torch.Tensor, epoch: int) -> AREALoss:
    loss.set_epoch(epoch)
    loss.set_effective_area(area)
    return loss


@pytest.mark.parametrize('seed', [0, 1])
def test_loss_value_and_gradient_are_the_official_weighted_cross_entropy(seed):
    g = torch.Generator().manual_seed(seed)
    area = torch.tensor([20.0, 8.0, 3.0, 1.0, 0.0])
    loss = reweighted(build(start_epoch=2), area, epoch=2)
    logits = torch.randn(8, C, generator=g) * 2
    label = torch.tensor([0, 0, 1, 3, 3, 2, 0, 1])  # class 4 absent
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    out = loss(a, label, avg_factor=8)
    ref = F.cross_entropy(b, label, weight=area_weights(area))  # official line 263
    out.backward()
    ref.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(a.grad, b.grad)
    # by hand: sum_i w_{y_i} CE_i / sum_i w_{y_i}
    w = area_weights(area)[label]
    ce = F.cross_entropy(logits, label, reduction='none')
    torch.testing.assert_close(out.detach(), (w * ce).sum() / w.sum())


def test_deferred_switch():
    loss = build(start_epoch=2)
    logits, label = torch.randn(6, C), torch.tensor([0, 1, 2, 3, 0, 0])
    loss.set_epoch(0)
    torch.testing.assert_close(loss.class_weight, torch.ones(C))
    torch.testing.assert_close(loss(logits, label), F.cross_entropy(logits, label))  # epochs 0, 1: plain CE
    loss.set_epoch(2)
    with pytest.raises(RuntimeError, match='epoch 2 is re-weighted but its effective areas were not computed'):
        loss(logits, label)
    loss.set_effective_area(torch.tensor([9.0, 3.0, 2.0, 1.0, 0.0]))
    assert loss.area_epoch == 2 and loss.class_weight[0] < loss.class_weight[3]
    torch.testing.assert_close(loss(logits, label), F.cross_entropy(logits, label, weight=loss.class_weight))
    loss.set_epoch(3)  # a new epoch needs new areas
    with pytest.raises(RuntimeError, match='epoch 3'):
        loss(logits, label)
    loss.eval()  # outside training the weights in force are used as they are
    torch.testing.assert_close(loss(logits, label), F.cross_entropy(logits, label, weight=loss.class_weight))
    never = build(start_epoch=None)
    never.set_epoch(500)
    torch.testing.assert_close(never(logits, label), F.cross_entropy(logits, label))


def test_the_loss_needs_the_hook():
    with pytest.raises(RuntimeError, match='AREAHook'):
        build()(torch.randn(2, C), torch.tensor([0, 1]))


def test_build_errors_name_the_value():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match=f'start_epoch must be None or a non-negative epoch, got {bad!r}'):
            build(start_epoch=bad)
    with pytest.raises(ValueError, match='num_classes=4'):
        build(num_classes=4)
    with pytest.raises(ValueError, match=r'effective areas of shape \(4,\) for 5 classes'):
        build().set_effective_area(torch.ones(4))


def test_state_dict_round_trip():
    loss = reweighted(build(start_epoch=1), torch.tensor([9.0, 3.0, 2.0, 1.0, 0.0]), epoch=4)
    state = loss.state_dict()
    assert set(state) == {'area_weight', 'effective_area', 'epoch', 'area_epoch'}
    fresh = build(start_epoch=1)
    fresh.load_state_dict(state)
    for name in state:
        torch.testing.assert_close(getattr(fresh, name), getattr(loss, name))
    logits, label = torch.randn(4, C), torch.tensor([0, 1, 2, 3])
    torch.testing.assert_close(fresh(logits, label), loss(logits, label))  # epoch 4's weights, no recomputation


# ------------------------------------------------------------------ two ranks (gloo)

RANK_BATCHES = ((4, 3, 5), (2, 6, 1))  # per rank, the sizes of its batches (the global batches: 6, 9, 6)


def rank_batches(rank: int, seed: int) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for step, size in enumerate(RANK_BATCHES[rank]):
        g = torch.Generator().manual_seed(seed + 100 * rank + step)
        out.append((torch.rand(size, 3, generator=g) * 2, torch.randint(0, 4, (size,), generator=g)))
    return out


def global_batches(seed: int) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    per_rank = [rank_batches(r, seed) for r in range(2)]
    return [(torch.cat([per_rank[0][s][0], per_rank[1][s][0]]), torch.cat([per_rank[0][s][1], per_rank[1][s][1]]))
            for s in range(len(RANK_BATCHES[0]))]


def worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    with gloo_process_group(rank, world_size, port):
        mean = feature_class_means(rank_batches(rank, 0), 4)
        area = summed_effective_area(rank_batches(rank, 1), mean)
        torch.save((mean, area), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks_compute_the_statistics_of_the_global_batches(tmp_path):
    """Every rank gets the class means of the whole set and the areas of the global batches (the union of the ranks'
    batches of a step), as one process over those batches, even with uneven per-rank batches."""
    mp.start_processes(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    (mean0, area0), (mean1, area1) = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    assert torch.equal(mean0, mean1) and torch.equal(area0, area1)
    first, second = global_batches(0), global_batches(1)
    counts = torch.bincount(torch.cat([lab for _, lab in first]), minlength=4).tolist()
    ref_mean = official_feature_mean(first, counts, 3)
    torch.testing.assert_close(mean0, ref_mean)
    torch.testing.assert_close(area0, official_eff_weight(second, ref_mean, 4)[1], rtol=1e-5, atol=1e-5)
    local = summed_effective_area(rank_batches(0, 1), ref_mean)  # a rank's own batches would give other areas
    assert not torch.allclose(local, area0)


# ------------------------------------------------------------------ the hook and the Digits-LT config

DIGITS_CONFIG = REPO / 'configs/area/area_lenet_1xb32_digits-lt_30e.py'


def digits_cfg(workspace: Path, work_dir: Path, **options):
    from mmengine.config import Config

    cfg = Config.fromfile(str(DIGITS_CONFIG))
    root = str(workspace / 'data' / 'digits_lt') + '/'
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root, 'val_evaluator.class_stats': root + 'meta/train.txt',
        'test_evaluator.class_stats': root + 'meta/train.txt', 'model.head.loss.class_stats': root + 'meta/train.txt',
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0, 'test_dataloader.persistent_workers': False,
        'default_hooks.checkpoint': dict(type='CheckpointHook', interval=1), 'default_hooks.logger.interval': 1,
        **options})
    cfg.launcher, cfg.work_dir = 'none', str(work_dir)
    return cfg


@pytest.mark.slow
def test_hook_computes_the_official_areas_of_the_model(cls_workspace, tmp_path):
    """With a deterministic pipeline, the hook's areas are the official computation on the hook's two loaders and the
    model's pooled features in eval mode; the two passes and the training epochs are shuffled differently."""
    from ltmm.engine import build_runner

    pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]
    runner = build_runner(digits_cfg(cls_workspace, tmp_path, **{'train_dataloader.dataset.pipeline': pipeline}))
    model = runner.model
    model.train()
    epoch, seed = 5, runner.seed + runner.train_loop.max_epochs + 2 * 5
    area = AREAHook().effective_area(runner, model, 10, epoch)
    assert model.training  # restored
    model.eval()
    with torch.no_grad():
        first = [(f, lab) for f, lab in AREAHook._features(model, AREAHook._loader(runner, seed))]
        second = [(f, lab) for f, lab in AREAHook._features(model, AREAHook._loader(runner, seed + 1))]
    counts = runner.model.head.loss_module.class_counts.long().tolist()
    assert torch.bincount(torch.cat([lab for _, lab in first]), minlength=10).tolist() == counts
    assert first[0][0].shape[1] == 120  # LeNet-5's pooled feature
    ref_weights, ref_area = official_eff_weight(second, official_feature_mean(first, counts, 120), 10)
    torch.testing.assert_close(area, ref_area, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(area_weights(area), ref_weights, rtol=1e-4, atol=1e-6)
    orders = [list(AREAHook._loader(runner, s).sampler) for s in (seed, seed + 1)]
    runner.train_dataloader.sampler.set_epoch(epoch)
    assert len({tuple(o) for o in orders + [list(runner.train_dataloader.sampler)]}) == 3


def test_hook_needs_an_area_loss():
    runner = SimpleNamespace(model=torch.nn.Sequential(torch.nn.Linear(2, 2)), epoch=0)
    with pytest.raises(RuntimeError, match='no AREALoss'):
        AREAHook().before_train_epoch(runner)


@pytest.mark.slow
def test_digits_config_trains_defers_and_resumes(cls_workspace, tmp_path):
    """Epoch 0 unweighted, epoch 1 re-weighted; the checkpoint holds the weights, a resumed run restores them and
    recomputes them at its next epoch; a test run from the checkpoint works."""
    from ltmm.engine import build_runner

    options = {'model.head.loss.start_epoch': 1, 'train_dataloader.dataset.indices': list(range(0, 340, 5))}
    runner = build_runner(digits_cfg(cls_workspace, tmp_path / 'a', **{
        **options, 'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2}))
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    module = runner.model.head.loss_module
    assert module.epoch == 1 and module.area_epoch == 1
    assert not torch.allclose(module.area_weight, torch.ones(10)) and module.area_weight.sum() == pytest.approx(10)
    saved = torch.load(tmp_path / 'a' / 'epoch_2.pth', map_location='cpu', weights_only=False)['state_dict']
    for name in ('area_weight', 'effective_area', 'epoch', 'area_epoch'):
        torch.testing.assert_close(saved[f'head.loss_module.{name}'], getattr(module, name))

    resumed = build_runner(digits_cfg(cls_workspace, tmp_path / 'b', **{
        **options, 'train_cfg.max_epochs': 3, 'train_cfg.val_interval': 3, 'resume': True,
        'load_from': str(tmp_path / 'a' / 'epoch_2.pth')}))
    resumed.load_or_resume()
    restored = resumed.model.head.loss_module
    assert resumed.epoch == 2 and restored.area_epoch == 1
    torch.testing.assert_close(restored.area_weight, module.area_weight)
    resumed.train()
    assert restored.epoch == 2 and restored.area_epoch == 2
    assert not torch.allclose(restored.effective_area, module.effective_area)

    tester = build_runner(digits_cfg(cls_workspace, tmp_path / 'c', load_from=str(tmp_path / 'a' / 'epoch_2.pth')))
    metrics = tester.test()
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key


@pytest.mark.slow
def test_digits_config_trains_two_iterations(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(str(DIGITS_CONFIG), tmp_path,
                                                 {'model.head.loss.start_epoch': 0})  # re-weighted from the start
    assert math.isfinite(loss) and loss > 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    assert runner.model.head.loss_module.area_epoch == 0
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
