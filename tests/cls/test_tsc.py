"""TSC: the loss against a naive transcription of the official targeted-supcon ``KCL.forward`` with ``targeted=True,
sep_t=True, tr=1`` (value, gradient, centroids, assignment), the tw = 0 relation to KCL, the Hungarian assignment
against a brute-force search and its determinism, the target generation, the state through a checkpoint (no
regeneration), targets from a file, errors; on two gloo processes identical centroids, assignment and targets on
both ranks, equal to the single-process run on the concatenated batch; and the Digits-LT configs on CPU (TSC from the
KCL stage's checkpoint, then the linear probe)."""
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from scipy.optimize import linear_sum_assignment

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import KCLLoss, TSCLoss
from ltmm.cls.losses.tsc_loss import assign_targets, generate_targets, uniformity_loss

from ..helpers import REPO, free_port, gloo_process_group
from .test_kcl import train_stage1

CONFIGS = REPO / 'configs' / 'tsc'
C, D = 4, 8


def naive_official(q, k, queue, queue_labels, labels, targets, centroids, tw, temperature):
    """LTH14/targeted-supcon moco/builder.py@c4f15ebf KCL.forward, targeted=True, sep_t=True, tr=1, K=0 (every
    same-class queue slot a positive), one process, anchor by anchor. Returns (loss, centroids, sigma)."""
    centroids = centroids.clone()
    qd = q.detach()
    for y in torch.unique(labels).tolist():
        batch_centroid = F.normalize(qd[labels == y].mean(0), dim=0)
        centroids[y] = 0.9 * centroids[y] + 0.1 * batch_centroid
        centroids[y] = F.normalize(centroids[y], dim=0)
    rows, cols = linear_sum_assignment(-(centroids @ targets.T).float().numpy())
    sigma = dict(zip(rows.tolist(), cols.tolist()))
    loss_class, loss_target = 0.0, 0.0
    for i in range(q.shape[0]):
        logits = torch.cat([(q[i] * k[i]).sum().reshape(1), queue @ q[i], targets @ q[i]]) / temperature
        log_prob = torch.log(torch.exp(logits) / torch.exp(logits).sum())
        positives = [0] + [1 + j for j in range(queue.shape[0]) if int(queue_labels[j]) == int(labels[i])]
        target_col = 1 + queue.shape[0] + sigma[int(labels[i])]
        count = len(positives) + 1
        loss_class = loss_class - log_prob[positives].sum() / count
        loss_target = loss_target - log_prob[target_col] / count
    b = q.shape[0]
    return loss_class / b + tw * loss_target / b, centroids, torch.tensor([sigma[c] for c in range(len(sigma))])


def data(b=6, size=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = F.normalize(torch.randn(b, D, generator=g, dtype=torch.float64), dim=1)
    k = F.normalize(torch.randn(b, D, generator=g, dtype=torch.float64), dim=1)
    queue = F.normalize(torch.randn(size, D, generator=g, dtype=torch.float64), dim=1)
    queue_labels = torch.randint(-1, C, (size, ), generator=g)
    labels = torch.randint(0, C, (b, ), generator=g)
    return q, k, queue, queue_labels, labels


def tsc(seed=0, **kw):
    torch.manual_seed(seed)
    loss = TSCLoss(num_classes=C, feat_dim=D, num_positives=None, target_steps=50, **kw)
    return loss


def call(loss, q, k, queue, queue_labels, labels):
    return loss(query=q, key=k, queue_feats=queue, queue_labels=queue_labels, labels=labels)


@pytest.mark.parametrize('tw,temperature,seed', [(0.2, 0.07, 0), (1.0, 0.2, 1), (0.0, 0.1, 2)])
def test_matches_the_official_value_gradient_and_assignment(tw, temperature, seed):
    q, k, queue, queue_labels, labels = data(seed=seed)
    loss = tsc(seed, target_weight=tw, temperature=temperature)
    loss.prepare_targets(torch.device('cpu'))
    targets, centroids = loss.targets.double(), loss.centroids.double()
    x = q.clone().requires_grad_()
    ref_x = q.clone().requires_grad_()
    out = call(loss, x, k, queue, queue_labels, labels)
    ref, ref_centroids, ref_sigma = naive_official(ref_x, k, queue, queue_labels, labels, targets, centroids, tw,
                                                   temperature)
    total = out['loss_tsc_class'] + out['loss_tsc_target']
    total.backward()
    ref.backward()
    torch.testing.assert_close(total.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, ref_x.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(loss.centroids.double(), ref_centroids, rtol=1e-5, atol=1e-6)
    assert loss.assignment.tolist() == ref_sigma.tolist()


def test_zero_target_weight_is_kcl_with_the_targets_as_negatives():
    """tw = 0 keeps the targets in the denominator and counts the target in n_i (the official formula): with m
    same-class queue slots for every anchor, TSC = (1 + m) / (2 + m) KCL over the queue extended by the targets."""
    q, k, queue, _, labels = data(size=8)
    queue_labels = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])  # m = 2 for every class
    loss = tsc(target_weight=0.0)
    out = call(loss, q, k, queue, queue_labels, labels)
    assert out['loss_tsc_target'] == 0
    extended = torch.cat([queue, loss.targets.double()])
    kcl = KCLLoss(num_positives=None)(query=q, key=k, queue_feats=extended,
                                      queue_labels=torch.cat([queue_labels, torch.full((C, ), -1)]), labels=labels)
    torch.testing.assert_close(out['loss_tsc_class'], (3 / 4) * kcl['loss_kcl'])


def test_assignment_is_the_best_permutation_and_deterministic():
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        centroids = F.normalize(torch.randn(5, 3, generator=g), dim=1)
        targets = F.normalize(torch.randn(5, 3, generator=g), dim=1)
        sigma = assign_targets(centroids, targets)
        similarity = centroids @ targets.T
        best = max(itertools.permutations(range(5)), key=lambda p: sum(similarity[i, p[i]] for i in range(5)))
        assert sigma.tolist() == list(best)
        assert assign_targets(centroids, targets).tolist() == sigma.tolist()
    # two identical runs (same seeds) give the same targets, centroids and assignments
    runs = []
    for _ in range(2):
        loss = tsc(3)
        for seed in range(3):
            call(loss, *data(seed=seed))
        runs.append({name: buf.clone() for name, buf in loss.state_dict().items()})
    for name in runs[0]:
        torch.testing.assert_close(runs[0][name], runs[1][name], msg=name)


def test_target_generation():
    a = generate_targets(10, 4, steps=200, seed=1)
    torch.testing.assert_close(a, generate_targets(10, 4, steps=200, seed=1))
    assert not torch.equal(a, generate_targets(10, 4, steps=200, seed=2))
    torch.testing.assert_close(a.norm(dim=1), torch.ones(10))
    start = generate_targets(10, 4, steps=0, seed=1)
    initial = torch.randn(10, 4, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(start, F.normalize(initial, dim=1))
    assert uniformity_loss(a) < uniformity_loss(start)
    # 4 points in 2-d spread to a square: neighbours at 90 degrees
    square = generate_targets(4, 2, steps=3000, lr=1e-2, seed=0)
    angles = torch.sort(torch.atan2(square[:, 1], square[:, 0])).values
    gaps = torch.diff(torch.cat([angles, angles[:1] + 2 * math.pi]))
    torch.testing.assert_close(gaps, torch.full((4, ), math.pi / 2), atol=0.05, rtol=0)


def test_state_through_a_checkpoint(tmp_path):
    loss = tsc(0)
    call(loss, *data(seed=0))
    assert bool(loss.targets_ready)
    torch.save(loss.state_dict(), tmp_path / 'tsc.pth')
    other = tsc(7, target_seed=5)  # other centroids, other targets if it generated them
    other.load_state_dict(torch.load(tmp_path / 'tsc.pth'))
    for name, buf in loss.state_dict().items():
        torch.testing.assert_close(other.state_dict()[name], buf, msg=name)
    a, b = call(loss, *data(seed=1)), call(other, *data(seed=1))  # no regeneration, the same next step
    for name in a:
        torch.testing.assert_close(a[name], b[name])
    torch.testing.assert_close(other.centroids, loss.centroids)
    assert other.assignment.tolist() == loss.assignment.tolist()


def test_targets_from_a_file(tmp_path):
    targets = F.normalize(torch.randn(C, D), dim=1).numpy()
    np.save(tmp_path / 'targets.npy', targets)
    loss = TSCLoss(num_classes=C, feat_dim=D, targets_file=str(tmp_path / 'targets.npy'))
    assert bool(loss.targets_ready)
    torch.testing.assert_close(loss.targets, torch.from_numpy(targets))
    with pytest.raises(ValueError, match=r'targets of shape \(4, 8\), expected \(5, 8\)'):
        TSCLoss(num_classes=5, feat_dim=D, targets_file=str(tmp_path / 'targets.npy'))


def test_errors_name_the_value():
    q, k, queue, queue_labels, labels = data()
    with pytest.raises(ValueError, match='num_classes must be >= 2, got 1'):
        TSCLoss(num_classes=1)
    with pytest.raises(ValueError, match='target_weight .* got -0.1'):
        TSCLoss(num_classes=C, target_weight=-0.1)
    with pytest.raises(ValueError, match='feat_dim=16 but the queries are 8-d'):
        call(TSCLoss(num_classes=C, feat_dim=16), q, k, queue, queue_labels, labels)
    with pytest.raises(ValueError, match=r'labels must be in \[0, 4\), got \[0, 7\]'):
        call(tsc(), q, k, queue, queue_labels, torch.tensor([0, 1, 2, 3, 7, 0]))
    assert isinstance(MODELS.build(dict(type='TSCLoss', num_classes=3, target_steps=1)), TSCLoss)


# ------------------------------------------------------------------------------- two ranks (gloo)

def tsc_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        loss = tsc(0, target_seed=rank)  # rank 1 would generate other targets: rank 0's are broadcast
        torch.manual_seed(0)  # the same initial centroids on both ranks
        loss.centroids.copy_(F.normalize(torch.randn(C, D), dim=1))
        for seed in range(3):
            q, k, queue, queue_labels, labels = data(b=8, seed=seed)
            rows = slice(rank * 4, (rank + 1) * 4)
            call(loss, q[rows].float(), k[rows].float(), queue.float(), queue_labels, labels[rows])
        torch.save(loss.state_dict(), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_centroids_and_assignment_over_two_ranks(tmp_path):
    mp.start_processes(tsc_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    single = tsc(0, target_seed=0)
    torch.manual_seed(0)
    single.centroids.copy_(F.normalize(torch.randn(C, D), dim=1))
    for seed in range(3):
        q, k, queue, queue_labels, labels = data(b=8, seed=seed)
        call(single, q.float(), k.float(), queue.float(), queue_labels, labels)
    for rank in range(2):
        state = torch.load(tmp_path / f'rank{rank}.pt')
        for name, buf in single.state_dict().items():
            torch.testing.assert_close(state[name], buf, msg=f'rank {rank}: {name}')


# ------------------------------------------------------------------------------------------- Digits-LT

@pytest.mark.slow
def test_digits_lt_kcl_then_tsc_then_probe(cls_workspace, tmp_path, monkeypatch):
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    loss, _ = train_stage1(CONFIGS / 'tsc-stage1-kcl_lenet_1xb32_digits-lt_30e.py', tmp_path / 'kcl')
    assert math.isfinite(loss)
    from mmengine.config import Config

    ckpt = tmp_path / 'kcl' / 'epoch_1.pth'
    cfg = Config.fromfile(str(CONFIGS / 'tsc_lenet_1xb32_digits-lt_30e.py'))
    assert cfg.load_from.endswith('epoch_30.pth')
    loss, runner = train_stage1(CONFIGS / 'tsc_lenet_1xb32_digits-lt_30e.py', tmp_path / 'tsc', load_from=str(ckpt),
                                cfg_options={'model.contrast_loss.target_steps': 100})  # 10,000 in the config
    assert math.isfinite(loss)
    tsc_loss = runner.model.contrast_loss
    assert isinstance(tsc_loss, TSCLoss) and bool(tsc_loss.targets_ready)
    assert sorted(tsc_loss.assignment.tolist()) == list(range(10))
    stage1 = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert (stage1['queue.labels'] >= 0).sum() == 64  # the KCL stage's queue ...
    assert (runner.model.queue.labels >= 0).sum() == min(128, runner.model.queue.size)  # ... carried on
    loss, metrics, _ = train_two_iterations(str(CONFIGS / 'tsc-linear_lenet_1xb32_digits-lt_10e.py'),
                                            tmp_path / 'probe', dict(load_from=str(tmp_path / 'tsc' / 'epoch_1.pth')))
    assert math.isfinite(loss)
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
