"""TLC: the Dempster-Shafer weights, the batch fusion and the loss against naive transcriptions of the official code
(lblaoke/TLC model/ResnetCifar.py forward, model/loss.py TLCLoss; value and gradient) at several epochs of the KL
annealing and both DRW phases, the fusion of two experts by hand, the engagement mask, a class absent from the batch,
numerics where the official float32 breaks, errors, the epoch through a checkpoint and a resumed run, the sync over
two gloo ranks, and the Digits-LT config training on CPU."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks.loss_epoch_hook import epoch_modules
from ltmm.cls.losses.tlc_loss import dempster_shafer_weights, dirichlet_kl_to_uniform, evidential_fusion, tlc_loss_terms

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

COUNTS = [200, 60, 20, 6, 2]


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(counts=COUNTS, **kw):
    return MODELS.build(dict(type='TLCLoss', class_stats=stats(counts), **kw))


# ------------------------------------------------------------------ naive transcriptions of the official code

def official_forward(outs, eta):
    """model/ResnetCifar.py ResNet_s.forward after the experts: evidence, beliefs, the (N, C, C) conflict, the weights
    w (w_0 a bool tensor of ones) and the batch softmax of exp(w / eta)."""
    num_classes = outs[0].shape[1]
    b0 = None
    w = [torch.ones(len(outs[0]), dtype=torch.bool)]
    for xi in outs:
        alpha = torch.exp(xi) + 1
        S = alpha.sum(dim=1, keepdim=True)
        b = (alpha - 1) / S
        u = num_classes / S.squeeze(-1)
        if b0 is None:
            C = 0
        else:
            bb = b0.view(-1, b0.shape[1], 1) @ b.view(-1, 1, b.shape[1])
            C = bb.sum(dim=[1, 2]) - bb.diagonal(dim1=1, dim2=2).sum(dim=1)
        b0 = b
        w.append(w[-1] * u / (1 - C))
    exp_w = [torch.exp(wi / eta) for wi in w]
    exp_w = [wi / wi.sum() for wi in exp_w]
    exp_w = [wi.unsqueeze(-1) for wi in exp_w]
    return sum(outs[i] * exp_w[i] for i in range(len(outs))), w


def official_loss(x, outs, w_list, y, epoch, counts, reweight_epoch, reweight_factor=0.05, annealing=500, tau=0.54,
                  max_m=0.5):
    """model/loss.py TLCLoss (constructor, _hook_before_epoch(epoch), forward(x, y, epoch, extra_info)) with the
    official 1-indexed epoch, in the dtype of the inputs."""
    m_list = 1. / np.sqrt(np.sqrt(counts))
    m_list = torch.tensor(m_list * (max_m / np.max(m_list)), dtype=x.dtype)
    effective_num = 1.0 - np.power(0.9999, counts)
    per_cls = (1.0 - 0.9999) / np.array(effective_num)
    per_cls = torch.tensor(per_cls / np.sum(per_cls) * len(counts), dtype=x.dtype)
    prior = np.array(counts) / np.sum(counts)
    div = len(counts) * prior * reweight_factor + 1 - reweight_factor
    div = torch.tensor(div / np.max(div), dtype=x.dtype)
    T = (reweight_epoch + annealing) / reweight_factor
    base_w, div_w = (per_cls, div) if epoch > reweight_epoch else (None, None)
    loss = 0
    for i in range(len(outs)):
        index = F.one_hot(y, x.shape[1]).bool()
        batch_m = (m_list[None, :] @ index.to(x.dtype).transpose(0, 1)).view((-1, 1))
        alpha = torch.exp(torch.where(index, outs[i] - 30 * batch_m, outs[i]))
        S = alpha.sum(dim=1, keepdim=True)
        term = F.nll_loss(torch.log(alpha) - torch.log(S), y, weight=base_w, reduction='none')
        yi = F.one_hot(y, num_classes=alpha.shape[1])
        alpha_tilde = yi + (1 - yi) * (alpha + 1)
        S_tilde = alpha_tilde.sum(dim=1, keepdim=True)
        kl = torch.lgamma(S_tilde) - torch.lgamma(torch.tensor(alpha_tilde.shape[1], dtype=x.dtype)) \
            - torch.lgamma(alpha_tilde).sum(dim=1, keepdim=True) \
            + ((alpha_tilde - 1) * (torch.digamma(alpha_tilde) - torch.digamma(S_tilde))).sum(dim=1, keepdim=True)
        term = term + epoch / T * kl.squeeze(-1)
        if div_w is not None:
            temperature, temperature_mean = div_w.view((1, -1)), div_w.mean().item()
        else:
            temperature, temperature_mean = 1, 1
        output_dist = F.log_softmax(outs[i] / temperature, dim=1)
        with torch.no_grad():
            mean_output_dist = F.softmax(x / temperature, dim=1)
        diversity = F.kl_div(output_dist, mean_output_dist, reduction='none').sum(dim=1)
        term = term - 0.01 * temperature_mean * temperature_mean * diversity
        w = w_list[i] / w_list[i].max()
        w = torch.where(w > tau, True, False)
        term = (w * term).sum() / w.sum()
        loss += term.mean()
    return loss


def expert_logits(n=12, k=3, c=len(COUNTS), seed=0, spread=1.0):
    """Cosine logits x 30 (in [-30, 30]) of K experts, float64."""
    g = torch.Generator().manual_seed(seed)
    return 30 * torch.tanh(spread * torch.randn(n, k, c, generator=g, dtype=torch.float64))


def labels(n=12, c=len(COUNTS), seed=0):
    return torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed + 100))


# --------------------------------------------------------------------------- weights and fusion

@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('eta', [0.2, 0.5])
def test_weights_and_fusion_match_the_official_forward(seed, eta):
    logits = expert_logits(n=9, k=3, c=7, seed=seed, spread=0.3)
    ref_fused, ref_w = official_forward(list(logits.unbind(1)), eta)
    ours = logits.float().requires_grad_()
    fused, w = evidential_fusion(ours, eta=eta)
    torch.testing.assert_close(w.double(), torch.stack([wi.double() for wi in ref_w], dim=1), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(fused.double(), ref_fused, rtol=1e-5, atol=1e-6)
    # the fused logits keep the official gradient (through omega too)
    ref_in = logits.clone().requires_grad_()
    ref = official_forward(list(ref_in.unbind(1)), eta)[0]
    probe = torch.randn(ref.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    (g,) = torch.autograd.grad((fused * probe.float()).sum(), ours)
    (rg,) = torch.autograd.grad((ref * probe).sum(), ref_in)
    torch.testing.assert_close(g.double(), rg, rtol=1e-4, atol=1e-6)


def test_two_experts_fused_by_hand():
    # sample A: expert 0 z = (ln 3, 0): e = (3, 1), S = 6, b = (1/2, 1/6), u = 1/3; expert 1 z = (0, 0): b = (1/4, 1/4),
    #   u = 1/2. w_1 = 1/3; 1 - Gamma = 1 - (1/2 * 1/4 + 1/6 * 1/4) = 5/6; w_2 = (1/3)(1/2) / (5/6) = 1/5.
    # sample B: expert 0 z = (0, 0): u = 1/2, b = (1/4, 1/4); expert 1 z = (0, ln 3): b = (1/6, 1/2), u = 1/3.
    #   w_1 = 1/2; 1 - Gamma = 1 - (1/4 * 1/2 + 1/4 * 1/6) = 5/6; w_2 = (1/2)(1/3) / (5/6) = 1/5.
    ln3 = math.log(3.0)
    logits = torch.tensor([[[ln3, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, ln3]]])
    fused, w = evidential_fusion(logits, eta=0.2)
    torch.testing.assert_close(w, torch.tensor([[1.0, 1 / 3, 1 / 5], [1.0, 1 / 2, 1 / 5]]))
    # omega_0 = (1/2, 1/2) (w_0 = 1); omega_1 = softmax over the batch of (1/3, 1/2) / 0.2 = (5/3, 5/2)
    omega_1b = 1 / (1 + math.exp(-5 / 6))
    torch.testing.assert_close(fused, torch.tensor([[ln3 / 2, 0.0], [0.0, omega_1b * ln3]]))
    # the prediction depends on the batch: sample A alone gets omega = (1, 1) (and expert 1's logits are 0)
    torch.testing.assert_close(evidential_fusion(logits[:1], eta=0.2)[0], torch.tensor([[ln3, 0.0]]))
    # normalize='experts': per-sample softmax over the experts of (1, w_1) / 0.2
    fused, _ = evidential_fusion(logits, eta=0.2, normalize='experts')
    omega_a = 1 / (1 + math.exp((1 / 3 - 1) / 0.2))
    omega_b = 1 / (1 + math.exp((1 - 1 / 2) / 0.2))
    torch.testing.assert_close(fused, torch.tensor([[omega_a * ln3, 0.0], [0.0, omega_b * ln3]]))
    torch.testing.assert_close(evidential_fusion(logits[1:], eta=0.2, normalize='experts')[0], fused[1:])


def test_weights_stay_finite_where_the_official_float32_conflict_rounds_to_one():
    # two confident experts disagreeing: 1 - Gamma is below float32 resolution
    logits = torch.full((1, 2, 10), -30.0)
    logits[0, 0, 0] = logits[0, 1, 1] = 30.0
    official = official_forward(list(logits.unbind(1)), 0.2)[1][-1]
    assert not torch.isfinite(official).all()  # u / (1 - 1) in the official float32
    w = dempster_shafer_weights(logits)
    assert torch.isfinite(w).all() and (w > 0).all() and (w <= 1).all()
    # float64 still resolves 1 - Gamma (about 2e-12) to about 1e-4: the official formula agrees there
    reference = torch.stack([wi.double() for wi in official_forward(list(logits.double().unbind(1)), 0.2)[1]], 1)
    torch.testing.assert_close(w.double(), reference, rtol=1e-3, atol=0)
    assert 0.4 < float(w[0, 2] / w[0, 1]) < 0.6  # u_1 / (u_0 + u_1 + ...) with u_0 = u_1: about 1/2


# --------------------------------------------------------------------------------------------- the loss

@pytest.mark.parametrize('epoch', [0, 9, 159, 160, 199])  # 0-indexed; the official epoch is epoch + 1
@pytest.mark.parametrize('seed', [0, 1])
def test_loss_matches_the_official_value_and_gradient(epoch, seed):
    logits = expert_logits(seed=seed, spread=0.5)
    target = labels(seed=seed)
    loss = build(drw=dict(start_epoch=160))
    loss.set_epoch(epoch)
    loss.drw.set_epoch(epoch)
    fused, w = official_forward(list(logits.unbind(1)), 0.2)
    ref_in = logits.clone().requires_grad_()
    ref = official_loss(fused.detach(), list(ref_in.unbind(1)), w, target, epoch + 1, COUNTS, 160)
    (rg,) = torch.autograd.grad(ref, ref_in)
    ours_in = logits.float().requires_grad_()
    ours = loss(ours_in, target, fused_score=fused.float())
    (g,) = torch.autograd.grad(ours, ours_in)
    torch.testing.assert_close(ours.double(), ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g.double(), rg, rtol=1e-4, atol=1e-6)


def test_annealing_and_reweighting_schedule():
    loss = build(reweight_factor=0.05, annealing=500, drw=dict(start_epoch=160))
    assert loss.kl_period == pytest.approx(13200.0)  # (160 + 500) / 0.05
    for epoch in (0, 99, 159, 160, 199):
        loss.set_epoch(epoch)
        loss.drw.set_epoch(epoch)
        assert loss.kl_weight() == pytest.approx((epoch + 1) / 13200.0)
        torch.testing.assert_close(loss.class_weight, torch.ones(5) if epoch < 160 else loss.drw.reweighted)
        torch.testing.assert_close(loss.temperature(), torch.ones(5) if epoch < 160 else loss.drw_temperature)
    assert build(reweight_factor=0.02, drw=dict(start_epoch=80)).kl_period == pytest.approx(29000.0)
    assert build().kl_period == pytest.approx(499 / 0.05)  # no DRW: the official default reweight_epoch = -1
    adopted = build()
    adopted.adopt_drw(160, 0.9999)  # the schedule of a pre-0.2 DRWHook(milestone=160)
    assert adopted.kl_period == pytest.approx(13200.0)


def test_engagement_mask_by_hand():
    # expert 0: w = 1 everywhere (all engaged); expert 1: w_1 = u_0 = C / S_0
    logits = torch.zeros(3, 2, 2)
    logits[1, 0] = torch.tensor([math.log(3.0), 0.0])  # S = 6, u = 1/3
    logits[2, 0] = torch.tensor([math.log(9.0), 0.0])  # S = 12, u = 1/6
    loss = build([5, 1], tau=0.54)
    w = dempster_shafer_weights(logits)[:, :2]
    torch.testing.assert_close(w[:, 1], torch.tensor([1 / 2, 1 / 3, 1 / 6]))
    # relative to the batch maximum 1/2: (1, 2/3, 1/3) > 0.54
    assert loss.engagement(w).tolist() == [[True, True], [True, True], [True, False]]
    assert build([5, 1], tau=0.7).engagement(w).tolist() == [[True, True], [True, False], [True, False]]


def test_each_expert_averages_over_its_engaged_samples():
    logits, target = expert_logits(n=10, seed=3).float(), labels(n=10, seed=3)
    loss = build()
    loss.set_epoch(5)
    fused, w = evidential_fusion(logits)
    terms = tlc_loss_terms(logits, fused, target, loss.margins, 30.0, None, 6 / loss.kl_period, torch.tensor(1.0))
    mask = loss.engagement(w[:, :-1])
    assert mask[:, 0].all() and not mask[:, 1:].all()  # this batch leaves some samples to expert 0 alone
    expected = sum(terms[mask[:, k], k].mean() for k in range(3))
    torch.testing.assert_close(loss(logits, target, fused_score=fused), expected)


def test_a_class_absent_from_the_batch():
    logits, target = expert_logits(n=8, seed=4, spread=0.4), torch.tensor([0, 1, 0, 1, 1, 0, 0, 1])
    loss = build(drw=dict(start_epoch=0))
    loss.set_epoch(3)
    loss.drw.set_epoch(3)
    fused, w = official_forward(list(logits.unbind(1)), 0.2)
    ref_in = logits.clone().requires_grad_()
    ref = official_loss(fused, list(ref_in.unbind(1)), w, target, 4, COUNTS, 0)
    (rg,) = torch.autograd.grad(ref, ref_in)
    ours_in = logits.float().requires_grad_()
    ours = loss(ours_in, target, fused_score=fused.float())
    (g,) = torch.autograd.grad(ours, ours_in)
    torch.testing.assert_close(ours.double(), ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g.double(), rg, rtol=1e-4, atol=1e-6)
    assert (g[:, :, 2:].abs().sum(dim=(0, 1)) > 0).all()  # absent classes 2-4 still get softmax / KL gradients


def test_kl_in_float64_where_the_official_float32_cancels():
    alpha = torch.ones(2, 100, dtype=torch.float64)
    alpha[:, 1:] += torch.exp(torch.linspace(-5, 28, 99, dtype=torch.float64))
    exact = dirichlet_kl_to_uniform(alpha)
    assert (exact > 0).all()
    s = alpha.float().sum(dim=1, keepdim=True)
    official32 = (torch.lgamma(s) - math.lgamma(100) - torch.lgamma(alpha.float()).sum(dim=1, keepdim=True)
                  + ((alpha.float() - 1) * (torch.digamma(alpha.float()) - torch.digamma(s))).sum(1, keepdim=True))
    assert (official32.squeeze(1).double() - exact).abs().max() > 1e3  # the float32 value is noise here


def test_low_precision_logits_are_computed_in_float32():
    logits, target = expert_logits(seed=2).float(), labels(seed=2)
    loss = build()
    loss.set_epoch(0)
    fused = evidential_fusion(logits)[0]
    out = loss(logits.half(), target, fused_score=fused.half())
    assert out.dtype == torch.float32 and torch.isfinite(out)  # e^30 would overflow float16
    torch.testing.assert_close(out, loss(logits.half().float(), target, fused_score=fused.half().float()))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='class index 2'):
        build([4, 3, 0, 1])
    with pytest.raises(ValueError, match='num_classes=3'):
        build([4, 2], num_classes=3)
    with pytest.raises(ValueError, match='tau=1.5'):
        build(tau=1.5)
    with pytest.raises(ValueError, match='reweight_factor=0'):
        build(reweight_factor=0)
    with pytest.raises(ValueError, match='only "mean"'):
        build(reduction='sum')
    loss = build()
    logits, target = expert_logits(n=4).float(), labels(n=4)
    fused = evidential_fusion(logits)[0]
    with pytest.raises(RuntimeError, match='LossEpochHook'):
        loss(logits, target, fused_score=fused)
    loss.set_epoch(0)
    with pytest.raises(ValueError, match='fused_score'):
        loss(logits, target)
    with pytest.raises(ValueError, match=r'\(N, K, C\)'):
        loss(logits[:, 0], target, fused_score=fused)
    with pytest.raises(ValueError, match='sample weights'):
        loss(logits, target, fused_score=fused, weight=torch.ones(4))
    with pytest.raises(ValueError, match='only "mean"'):
        loss(logits, target, fused_score=fused, reduction_override='none')
    with pytest.raises(ValueError, match='integer class indices'):
        loss(logits, target.float(), fused_score=fused)


# ------------------------------------------------------------------------------------------------ the head

def tlc_head(counts=COUNTS, in_channels=4, **fusion):
    return MODELS.build(dict(type='MultiExpertClsHead', num_classes=len(counts), in_channels=in_channels,
                             num_experts=3, fusion=dict(type='evidential', **fusion),
                             loss=dict(type='TLCLoss', class_stats=stats(counts))))


def test_head_predicts_the_fusion_and_feeds_it_to_the_loss():
    torch.manual_seed(0)
    head = tlc_head(eta=0.2)
    feats = (torch.randn(6, 12), )
    logits = head.forward_experts(feats)
    fused, w = evidential_fusion(logits, eta=0.2)
    torch.testing.assert_close(head(feats), fused)
    predictions = head.predict(feats)
    assert [p.num_experts for p in predictions] == [3] * 6
    torch.testing.assert_close(torch.tensor([p.uncertainty for p in predictions]), w[:, -1])
    torch.testing.assert_close(torch.stack([p.pred_score for p in predictions]), fused.softmax(dim=1))
    head.loss_module.set_epoch(2)
    samples = [DataSample().set_gt_label(int(y)) for y in labels(n=6)]
    losses = head.loss(feats, samples)
    torch.testing.assert_close(losses['loss'], head.loss_module(logits, labels(n=6), fused_score=fused))
    assert epoch_modules(head) == [head.loss_module]  # LossEpochHook reaches the loss (no DRW here)


def test_head_options():
    with pytest.raises(ValueError, match="type='evidential'"):
        MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=4, fusion=dict(type='mean'),
                          loss=dict(type='TLCLoss', class_stats=stats(COUNTS))))
    with pytest.raises(ValueError, match='eta'):
        tlc_head(eta=0.01)
    with pytest.raises(ValueError, match='normalize'):
        tlc_head(normalize='classes')
    with pytest.raises(ValueError, match='takes eta, normalize and sync'):
        tlc_head(temperature=0.2)
    with pytest.raises(ValueError, match='router'):
        MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=4, router=dict(top_k=2),
                          fusion=dict(type='evidential'), loss=dict(type='RIDELoss', class_stats=stats(COUNTS))))
    # TLCLoss under the mean fusion: a clear error at the first loss
    head = MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=4,
                             loss=dict(type='TLCLoss', class_stats=stats(COUNTS))))
    head.loss_module.set_epoch(0)
    with pytest.raises(ValueError, match='fused_score'):
        head.loss((torch.randn(2, 12), ), [DataSample().set_gt_label(0), DataSample().set_gt_label(1)])


# ------------------------------------------------------------------------------------------ checkpoints

def test_epoch_and_drw_phase_through_a_checkpoint():
    loss = build(drw=dict(start_epoch=160))
    assert epoch_modules(loss) == [loss.drw]  # LossEpochHook calls both: the model's modules include the loss
    loss.set_epoch(170)
    loss.drw.set_epoch(170)
    state = loss.state_dict()
    assert int(state['epoch']) == 170 and bool(state['drw.active'])
    restored = build(drw=dict(start_epoch=160))
    restored.load_state_dict(state)
    assert restored.kl_weight() == loss.kl_weight() == pytest.approx(171 / 13200)
    logits, target = expert_logits(seed=6).float(), labels(seed=6)
    fused = evidential_fusion(logits)[0]
    torch.testing.assert_close(restored(logits, target, fused_score=fused), loss(logits, target, fused_score=fused))


# ------------------------------------------------------------------------------- two ranks (DDP, gloo)

SIZES = (5, 7)  # rank 0 and rank 1 hold different numbers of samples


def rank_rows(rank):
    start = sum(SIZES[:rank])
    return slice(start, start + SIZES[rank])


def ddp_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        logits, target = expert_logits(n=sum(SIZES), seed=8), labels(n=sum(SIZES), seed=8)
        logits, target = logits[rank_rows(rank)].float(), target[rank_rows(rank)]
        results = {}
        for sync in (True, False):
            x = logits.clone().requires_grad_()
            fused = evidential_fusion(x, sync=sync)[0]
            loss = build(sync=sync)
            loss.set_epoch(20)
            out = loss(x, target, fused_score=fused)
            out.backward()
            results[sync] = (fused.detach(), out.detach(), x.grad)
        torch.save(results, Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_sync_over_two_ranks_is_the_whole_batch(tmp_path):
    """sync=True: each rank's fused rows are those of the whole batch, and the ranks' losses and gradients, averaged
    as DDP does, are those of the whole batch on one process; sync=False: each rank's own batch."""
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    logits, target = expert_logits(n=sum(SIZES), seed=8).float(), labels(n=sum(SIZES), seed=8)
    loss = build()
    loss.set_epoch(20)
    full = logits.clone().requires_grad_()
    fused_full = evidential_fusion(full)[0]
    out_full = loss(full, target, fused_score=fused_full)
    out_full.backward()
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    torch.testing.assert_close(sum(r[True][1] for r in results) / 2, out_full.detach(), rtol=1e-5, atol=1e-5)
    for rank, res in enumerate(results):
        rows = rank_rows(rank)
        fused, _, grad = res[True]
        torch.testing.assert_close(fused, fused_full[rows].detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grad / 2, full.grad[rows], rtol=1e-4, atol=1e-6)
        own = logits[rows].clone().requires_grad_()
        own_fused = evidential_fusion(own)[0]
        loss(own, target[rows], fused_score=own_fused).backward()
        fused, out, grad = res[False]
        torch.testing.assert_close(fused, own_fused.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out, loss(logits[rows], target[rows], fused_score=own_fused.detach()))
        torch.testing.assert_close(grad, own.grad, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------------------- Digits-LT

@pytest.mark.slow
def test_digits_lt_config_trains_and_resumes(cls_workspace, tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)
    config = str(REPO / 'configs/tlc/tlc_resnet32_1xb32_digits-lt_30e.py')
    loss, metrics, runner = train_two_iterations(config, tmp_path / 'smoke')
    assert math.isfinite(loss)
    head = runner.model.head
    assert type(head.loss_module).__name__ == 'TLCLoss' and head.fusion['eta'] == 0.2
    assert int(head.loss_module.epoch) == 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key

    def short_run(work_dir, max_epochs, resume):
        cfg = Config.fromfile(config)
        cfg.work_dir = str(work_dir)
        cfg.train_dataloader.dataset.indices = 32  # one iteration per epoch
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            loader.num_workers = 0
            loader.persistent_workers = False
        cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval = max_epochs, 10
        cfg.model.head.loss.drw.start_epoch = 1
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
        cfg.param_scheduler = []
        cfg.resume = resume
        return Runner.from_cfg(cfg)

    first = short_run(tmp_path / 'resume', 1, False)
    first.train()
    saved = torch.load(tmp_path / 'resume' / 'epoch_1.pth', map_location='cpu', weights_only=False)['state_dict']
    assert int(saved['head.loss_module.epoch']) == 0 and not bool(saved['head.loss_module.drw.active'])
    second = short_run(tmp_path / 'resume', 2, True)
    second.train()
    assert second.epoch == 2 and int(second.model.head.loss_module.epoch) == 1
    assert bool(second.model.head.loss_module.drw.active)  # DRW from epoch 1: the resumed epoch is re-weighted
