"""SupCon: the weighted core ``supcon_loss`` and ``SupConLoss`` against a naive per-anchor transcription of
SupContrast's ``losses.py`` (value and gradient), the T / base_T factor, edge cases (a class with one sample, a batch
of one class, an anchor without positives), precision, errors; the distributed helpers (identity on one process;
on two gloo processes ``gather_with_grad`` gives the single-process full-batch gradient after DDP's averaging)."""
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import SupConLoss, supcon_loss
from ltmm.core.distributed import concat_all_gather, gather_with_grad

from ..helpers import free_port, gloo_process_group


def naive_supcon(features, labels, temperature, base_temperature, contrast_mode='all'):
    """HobbitLong/SupContrast losses.py@66a8fe53, anchor by anchor: views stacked view-major, positives the other
    rows of the same label, denominator every row but the anchor, an anchor without positives contributing 0 to the
    mean over anchors, the loss scaled by T / base_T."""
    batch, views = features.shape[:2]
    rows = [features[b, v] for v in range(views) for b in range(batch)]
    row_labels = [int(labels[b]) for v in range(views) for b in range(batch)]
    anchors = range(len(rows)) if contrast_mode == 'all' else range(batch)
    total = 0.0 * features.sum()  # a graph even when no anchor has a positive
    for i in anchors:
        logits = [torch.dot(rows[i], rows[j]) / temperature for j in range(len(rows))]
        log_denom = torch.log(sum(torch.exp(logits[j]) for j in range(len(rows)) if j != i))
        positives = [j for j in range(len(rows)) if j != i and row_labels[j] == row_labels[i]]
        if positives:
            total = total + sum(logits[j] - log_denom for j in positives) / len(positives)
    return -(temperature / base_temperature) * total / len(anchors)


def naive_weighted(logits, pos_weight, denom_weight, scale):
    """The docstring formula of supcon_loss, anchor by anchor."""
    total = 0.0
    for a in range(logits.shape[0]):
        log_denom = torch.log(sum(denom_weight[a, k] * torch.exp(logits[a, k]) for k in range(logits.shape[1])))
        weight = pos_weight[a].sum()
        if weight > 0:
            total = total + sum(pos_weight[a, n] * (logits[a, n] - log_denom)
                                for n in range(logits.shape[1])) / weight
    return -scale * total / logits.shape[0]


def features(batch=6, views=2, dim=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(batch, views, dim, generator=g, dtype=dtype), dim=-1)


@pytest.mark.parametrize('labels,mode,views,temperature', [
    ([0, 1, 1, 2, 0, 1], 'all', 2, 0.07),
    ([0, 1, 1, 2, 0, 1], 'one', 2, 0.1),
    ([3, 3, 3, 3, 3, 3], 'all', 3, 0.5),  # a batch of one class
    ([0, 1, 2, 3, 4, 5], 'all', 1, 0.2),  # one view, every class once: no anchor has a positive
    ([0, 1, 1, 2, 0, 1], 'all', 1, 0.2),  # one view: class 2 has a single sample (no positive), the rest have
])
def test_supcon_matches_the_official_value_and_gradient(labels, mode, views, temperature):
    labels = torch.tensor(labels)
    x = features(views=views).requires_grad_()
    ref_x = x.detach().clone().requires_grad_()
    loss = SupConLoss(temperature=temperature, contrast_mode=mode)(x, labels)
    ref = naive_supcon(ref_x, labels, temperature, 0.07, mode)
    loss.backward()
    ref.backward()
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x.grad, ref_x.grad, rtol=1e-4, atol=1e-6)


def test_no_positive_anchor_contributes_zero_and_counts_in_the_mean():
    # one view; classes [0, 0, 1]: anchors 0 and 1 have one positive each, anchor 2 none
    x = features(batch=3, views=1, seed=3)
    labels = torch.tensor([0, 0, 1])
    loss = SupConLoss(temperature=0.5, base_temperature=0.5)(x, labels)
    logits = (x[:, 0] @ x[:, 0].T / 0.5).double()
    pair = [logits[a, 1 - a] - torch.logsumexp(logits[a, [k for k in range(3) if k != a]], 0) for a in (0, 1)]
    torch.testing.assert_close(loss.double(), -(pair[0] + pair[1]) / 3, rtol=1e-5, atol=1e-6)
    assert torch.isfinite(loss)


def test_temperature_factor_and_simclr():
    x, labels = features(), torch.tensor([0, 1, 1, 2, 0, 1])
    base = SupConLoss(temperature=0.1, base_temperature=0.1)(x, labels)
    torch.testing.assert_close(SupConLoss(temperature=0.1)(x, labels), base * (0.1 / 0.07))
    torch.testing.assert_close(SupConLoss(temperature=0.1, loss_weight=2.0)(x, labels), 2 * base * (0.1 / 0.07))
    # no labels and no mask: SimCLR (positives: the other views of the same sample) = labels all distinct
    torch.testing.assert_close(SupConLoss()(x), SupConLoss()(x, torch.arange(6)))
    mask = (labels[:, None] == labels[None, :]).float()
    torch.testing.assert_close(SupConLoss()(x, mask=mask), SupConLoss()(x, labels))
    assert isinstance(MODELS.build(dict(type='SupConLoss')), SupConLoss)


@pytest.mark.parametrize('seed', [0, 1])
def test_weighted_core_matches_its_formula(seed):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(5, 7, generator=g, dtype=torch.float64) * 3).requires_grad_()
    pos_weight = torch.rand(5, 7, generator=g, dtype=torch.float64) * (torch.rand(5, 7, generator=g) < 0.4)
    pos_weight[2] = 0.0  # an anchor without positives
    pos_weight[0, 0] = 1.0  # PaCo-like: a weighted first column
    denom_weight = (torch.rand(5, 7, generator=g) < 0.8).double()
    denom_weight[:, 0] = 1.0
    ref_logits = logits.detach().clone().requires_grad_()
    loss = supcon_loss(logits, pos_weight, denom_weight, scale=1.7)
    ref = naive_weighted(ref_logits, pos_weight, denom_weight, 1.7)
    loss.backward()
    ref.backward()
    torch.testing.assert_close(loss.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logits.grad, ref_logits.grad, rtol=1e-4, atol=1e-6)
    # denom_weight None = all ones
    torch.testing.assert_close(supcon_loss(logits, pos_weight), supcon_loss(logits, pos_weight, torch.ones(5, 7)))


def test_precision_and_large_logits():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, generator=g) * 100  # exp overflows without the max subtraction
    pos = (torch.rand(4, 6, generator=g) < 0.5).float()
    loss = supcon_loss(logits, pos)
    assert torch.isfinite(loss)
    half = supcon_loss(logits.half(), pos.half())
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, supcon_loss(logits.half().float(), pos))
    assert supcon_loss(logits.bfloat16(), pos).dtype == torch.float32


def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r'pos_weight of shape \(4, 5\)'):
        supcon_loss(torch.zeros(4, 6), torch.zeros(4, 5))
    with pytest.raises(ValueError, match=r'denom_weight of shape \(6,\)'):
        supcon_loss(torch.zeros(4, 6), torch.zeros(4, 6), torch.ones(6))
    with pytest.raises(ValueError, match=r'contrast_mode'):
        SupConLoss(contrast_mode='some')
    with pytest.raises(ValueError, match=r'\(B, V, d\), got shape \(6, 5\)'):
        SupConLoss()(torch.zeros(6, 5))
    with pytest.raises(ValueError, match='not both'):
        SupConLoss()(features(), torch.zeros(6), torch.eye(6))
    with pytest.raises(ValueError, match='5 labels for 6 samples'):
        SupConLoss()(features(), torch.zeros(5))


# -------------------------------------------------------------------------------- distributed helpers

def test_helpers_are_the_identity_on_one_process():
    x = torch.randn(3, 4, requires_grad=True)
    assert concat_all_gather(x).requires_grad is False
    torch.testing.assert_close(concat_all_gather(x), x.detach())
    assert gather_with_grad(x) is x


ROWS_PER_RANK = 3
LABELS = [0, 1, 1, 2, 0, 1]


def local_anchor_loss(local, gathered, local_labels, all_labels, rank, temperature=0.2):
    """SupCon of one view: this rank's anchors against the gathered contrast set, the mean over local anchors."""
    logits = local @ gathered.T / temperature
    offset = rank * local.shape[0]
    not_self = torch.ones_like(logits)
    not_self[torch.arange(local.shape[0]), offset + torch.arange(local.shape[0])] = 0.0
    pos = (local_labels[:, None] == all_labels[None, :]).float() * not_self
    return supcon_loss(logits, pos, not_self)


def gather_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        full = features(batch=ROWS_PER_RANK * world_size, views=1, dtype=torch.float32)[:, 0]
        rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
        local = full[rows].clone().requires_grad_()
        labels = torch.tensor(LABELS)
        gathered = gather_with_grad(local)
        loss = local_anchor_loss(local, gathered, labels[rows], concat_all_gather(labels[rows]), rank)
        loss.backward()
        torch.save(dict(loss=loss.detach(), grad=local.grad, gathered=gathered.detach()),
                   Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_gather_with_grad_gives_the_full_batch_gradient_over_two_ranks(tmp_path):
    """Each rank: local anchors x gathered contrast set, mean over local anchors. DDP's mean over ranks of the
    per-rank gradients equals the single-process full-batch gradient: rank r's own rows get world_size times it."""
    world_size = 2
    mp.start_processes(gather_worker, args=(world_size, free_port(), str(tmp_path)), nprocs=world_size, join=True,
                       start_method='fork')
    full = features(batch=ROWS_PER_RANK * world_size, views=1, dtype=torch.float32)[:, 0].clone().requires_grad_()
    labels = torch.tensor(LABELS)
    full_loss = local_anchor_loss(full, full, labels, labels, 0)
    full_loss.backward()
    losses = []
    for rank in range(world_size):
        res = torch.load(tmp_path / f'rank{rank}.pt')
        rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
        torch.testing.assert_close(res['gathered'], full.detach())
        torch.testing.assert_close(res['grad'], world_size * full.grad[rows], rtol=1e-4, atol=1e-6)
        losses.append(res['loss'])
    torch.testing.assert_close(sum(losses) / world_size, full_loss.detach(), rtol=1e-5, atol=1e-6)
