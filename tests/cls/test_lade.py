"""LADE: the module against a naive transcription of the official PriorCE + LADER (value and gradient), hand-computed
cases (a class absent from the batch), alpha and the ReMINE lambda, soft labels, errors, the cross-rank LADER on two
gloo processes, the test-time prior shift of LogitAdjustedClsHead (target_prior), checkpoints, and the Digits-LT
config training on CPU."""
import math
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.heads.logit_adjusted_cls_head import target_log_prior
from ltmm.cls.losses import BalancedSoftmaxLoss, LADELoss
from ltmm.cls.losses.lade_loss import lader_loss

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

COUNTS = [500, 120, 40, 9, 1]


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def naive_official(f, y, counts, alpha, remine_lambda):
    """hyperconnect/LADE, sample by sample and class by class: PriorCELoss (nn.CrossEntropyLoss on
    f + log(prior + 1e-9), mean over the batch) + alpha * LADELoss (-sum_c prior_c (first_c - second_c -
    lambda second_c^2), first_c the mean f_c over the batch's class-c samples with N_c + 1e-8, second_c the
    log-mean-exp over all samples of f_c - log(prior_c + 1e-9) + log(1/C + 1e-9))."""
    num_samples, num_classes = f.shape
    prior = [n / sum(counts) for n in counts]
    pc = 0.0
    for i in range(num_samples):
        z = torch.stack([f[i, k] + math.log(prior[k] + 1e-9) for k in range(num_classes)])
        pc = pc + torch.logsumexp(z, 0) - z[int(y[i])]
    pc = pc / num_samples
    lader = 0.0
    for c in range(num_classes):
        members = [i for i in range(num_samples) if int(y[i]) == c]
        first = sum((f[i, c] for i in members), torch.tensor(0.0)) / (len(members) + 1e-8)
        terms = torch.stack([f[i, c] - math.log(prior[c] + 1e-9) + math.log(1 / num_classes + 1e-9)
                             for i in range(num_samples)])
        second = torch.log(torch.exp(terms).sum() / num_samples)
        lader = lader - prior[c] * (first - second - remine_lambda * second ** 2)
    return pc + alpha * lader


def data(n=10, c=len(COUNTS), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 2, torch.randint(0, c, (n,), generator=g)


# ------------------------------------------------------------------------------------------------ the loss

@pytest.mark.parametrize('alpha,remine_lambda,seed', [(0.1, 0.01, 0), (0.05, 0.5, 1), (1.0, 0.0, 2), (0.1, 0.1, 3)])
def test_matches_the_official_value_and_gradient(alpha, remine_lambda, seed):
    logits, label = data(seed=seed)
    label[label == 3] = 0  # a class absent from the batch
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    out = LADELoss(stats(COUNTS), alpha=alpha, remine_lambda=remine_lambda)(a, label, avg_factor=len(label))
    ref = naive_official(b, label, COUNTS, alpha, remine_lambda)
    out.backward()
    ref.backward()
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-7)


def test_hand_computed_with_an_absent_class():
    # counts (3, 1): pi = (3/4, 1/4); logits 0, two samples of class 0 (class 1 absent: A_1 = 0/(0 + 1e-8) = 0).
    # B_c = log mean_i exp(0 - log pi_c + log 1/2) = log(1 / (2 pi_c)): B_0 = log(2/3), B_1 = log 2.
    # LADER = -sum_c pi_c (A_c - B_c - lambda B_c^2) = sum_c pi_c (B_c + lambda B_c^2); PriorCE = -log(3/4).
    b0, b1 = math.log(2 / 3), math.log(2)
    z, y = torch.zeros(2, 2), torch.tensor([0, 0])
    for lam in (0.0, 0.3):
        lader = 0.75 * (b0 + lam * b0 ** 2) + 0.25 * (b1 + lam * b1 ** 2)
        assert lader_loss(z, F.one_hot(y, 2).float(), torch.tensor([0.75, 0.25]), lam).item() == \
            pytest.approx(lader, abs=1e-6)
        loss = LADELoss(stats([3, 1]), alpha=0.5, remine_lambda=lam)
        assert loss(z, y).item() == pytest.approx(-math.log(0.75) + 0.5 * lader, abs=1e-6)
    # class 1 present in sample 1 with logits (0, 2): A_0 = 0, A_1 = 2; B_0 = log(2/3) as above,
    # B_1 = log mean(e^0, e^2) - log(1/4) + log(1/2) = log((1 + e^2) / 2) + log 2
    z = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    lader = lader_loss(z, F.one_hot(torch.tensor([0, 1]), 2).float(), torch.tensor([0.75, 0.25]), 0.0)
    b1 = math.log((1 + math.exp(2)) / 2) + math.log(2)
    assert lader.item() == pytest.approx(-(0.75 * (0 - b0) + 0.25 * (2.0 - b1)), abs=1e-6)


def test_alpha_and_lambda():
    logits, label = data(seed=4)
    onehot = F.one_hot(label, len(COUNTS)).float()
    prior = torch.tensor(COUNTS, dtype=torch.float64)
    prior = (prior / prior.sum()).float()
    base = LADELoss(stats(COUNTS), alpha=0.0)(logits, label)
    # alpha = 0: the prior-compensated cross-entropy alone, i.e. Balanced Softmax (up to the official 1e-9)
    torch.testing.assert_close(base, BalancedSoftmaxLoss(stats(COUNTS))(logits, label), rtol=1e-6, atol=1e-6)
    for alpha in (0.05, 0.1, 2.0):
        for lam in (0.0, 0.5):
            out = LADELoss(stats(COUNTS), alpha=alpha, remine_lambda=lam)(logits, label)
            torch.testing.assert_close(out - base, alpha * lader_loss(logits, onehot, prior, lam),
                                       rtol=1e-5, atol=1e-6)
    # lambda adds alpha * lambda * sum_c pi_c B_c^2 (the ReMINE term)
    shifted = logits - torch.log(prior + 1e-9) + math.log(1 / len(COUNTS) + 1e-9)
    b = torch.logsumexp(shifted, 0) - math.log(len(label))
    diff = LADELoss(stats(COUNTS), alpha=0.1, remine_lambda=0.5)(logits, label) - \
        LADELoss(stats(COUNTS), alpha=0.1, remine_lambda=0.0)(logits, label)
    torch.testing.assert_close(diff, 0.1 * 0.5 * (prior * b ** 2).sum(), rtol=1e-5, atol=1e-7)
    # defaults: the official --alpha default and LADELoss.create_loss's remine_lambda
    default = LADELoss(stats(COUNTS))
    assert (default.alpha, default.remine_lambda, default.sync) == (0.1, 0.1, True)


def test_batch_statistics():
    logits, label = data(seed=5)
    onehot = F.one_hot(label, len(COUNTS)).float()
    prior = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    # the batch twice over: the same class means and log-mean-exps, the same LADER
    torch.testing.assert_close(lader_loss(torch.cat([logits, logits]), torch.cat([onehot, onehot]), prior, 0.1),
                               lader_loss(logits, onehot, prior, 0.1))
    # but not the LADER of half the batch: the term is a batch statistic
    assert not torch.allclose(lader_loss(logits[:5], onehot[:5], prior, 0.1), lader_loss(logits, onehot, prior, 0.1))
    # one process: sync changes nothing
    torch.testing.assert_close(LADELoss(stats(COUNTS), sync=True)(logits, label),
                               LADELoss(stats(COUNTS), sync=False)(logits, label))


def test_soft_labels_and_precision():
    logits, label = data(seed=6)
    loss = LADELoss(stats(COUNTS), alpha=0.1, remine_lambda=0.01)
    onehot = F.one_hot(label, len(COUNTS)).float()
    torch.testing.assert_close(loss(logits, onehot), loss(logits, label))
    # mixup targets: sample i counts y_ic times towards class c's mean
    soft = 0.6 * onehot + 0.4 * onehot.roll(1, dims=0)
    prior = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    mean = (soft * logits).sum(0) / (soft.sum(0) + 1e-8)
    b = torch.logsumexp(logits - torch.log(prior + 1e-9) + math.log(1 / 5 + 1e-9), 0) - math.log(len(label))
    lader = -(prior * (mean - b - 0.01 * b ** 2)).sum()
    pc = -(soft * F.log_softmax(logits + torch.log(prior + 1e-9), 1)).sum(1).mean()
    torch.testing.assert_close(loss(logits, soft), pc + 0.1 * lader, rtol=1e-5, atol=1e-6)
    # half-precision logits are computed in float32
    out = loss(logits.half(), label)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, loss(logits.half().float(), label))


def test_errors_name_the_value():
    logits, label = data()
    with pytest.raises(ValueError, match='class index 1'):
        LADELoss(stats([5, 0, 3]))
    with pytest.raises(ValueError, match='num_classes=4'):
        LADELoss(stats(COUNTS), num_classes=4)
    with pytest.raises(ValueError, match='alpha must be >= 0, got -0.1'):
        LADELoss(stats(COUNTS), alpha=-0.1)
    with pytest.raises(ValueError, match='remine_lambda must be >= 0, got -1'):
        LADELoss(stats(COUNTS), remine_lambda=-1)
    with pytest.raises(ValueError, match="reduction='sum'"):
        LADELoss(stats(COUNTS), reduction='sum')
    with pytest.raises(ValueError, match="reduction_override='none'"):
        LADELoss(stats(COUNTS))(logits, label, reduction_override='none')
    with pytest.raises(ValueError, match='sample weights'):
        LADELoss(stats(COUNTS))(logits, label, weight=torch.ones(len(label)))
    with pytest.raises(ValueError, match=r'shape \(10, 4\)'):
        LADELoss(stats(COUNTS))(logits[:, :4], label)


# ------------------------------------------------------------------------------- two ranks (DDP, gloo)

SIZES = (3, 5)  # rank 0 and rank 1 hold different numbers of samples
ALPHA, LAMBDA = 0.5, 0.3


def rank_rows(rank):
    start = sum(SIZES[:rank])
    return slice(start, start + SIZES[rank])


def ddp_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        logits, label = data(n=sum(SIZES), seed=7)
        logits, label = logits[rank_rows(rank)], label[rank_rows(rank)]
        results = {}
        for name, kw in (('sync', dict(sync=True)), ('local', dict(sync=False)), ('ce', dict(alpha=0.0))):
            x = logits.clone().requires_grad_()
            out = LADELoss(stats(COUNTS), **{'alpha': ALPHA, 'remine_lambda': LAMBDA, **kw})(x, label)
            out.backward()
            results[name] = (out.detach(), x.grad)
        torch.save(results, Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_lader_over_two_ranks(tmp_path):
    """sync=True: every rank gets the LADER of the whole batch, and its own rows get world_size times the gradient of
    the whole-batch LADER (summed over the ranks), so that DDP's mean of the parameter gradients is the gradient of
    the whole-batch loss, as under the official DataParallel; sync=False: each rank's own LADER."""
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    logits, label = data(n=sum(SIZES), seed=7)
    prior = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    full = logits.clone().requires_grad_()
    lader_full = lader_loss(full, F.one_hot(label, len(COUNTS)).float(), prior, LAMBDA)
    lader_full.backward()
    for rank in range(2):
        res = torch.load(tmp_path / f'rank{rank}.pt')
        rows = rank_rows(rank)
        (sync, sync_grad), (ce, ce_grad), (local, local_grad) = res['sync'], res['ce'], res['local']
        torch.testing.assert_close(sync - ce, ALPHA * lader_full.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(sync_grad - ce_grad, 2 * ALPHA * full.grad[rows], rtol=1e-4, atol=1e-6)
        own = logits[rows].clone().requires_grad_()
        lader_own = lader_loss(own, F.one_hot(label[rows], len(COUNTS)).float(), prior, LAMBDA)
        lader_own.backward()
        torch.testing.assert_close(local - ce, ALPHA * lader_own.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(local_grad - ce_grad, ALPHA * own.grad, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------- the test-time prior shift (the head)

def shift_head(counts, tau, target_prior, num_classes=None):
    num_classes = num_classes or len(counts)
    head = MODELS.build(dict(type='LogitAdjustedClsHead', num_classes=num_classes, in_channels=num_classes,
                             class_stats=stats(counts), tau=tau, target_prior=target_prior))
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(num_classes))
        head.fc.bias.zero_()
    return head


def test_prior_shift_by_hand():
    # train counts (3, 1), target counts (1, 4): pi_s = (3/4, 1/4), pi_t = (1/5, 4/5)
    x = torch.tensor([[1.0, 0.0]])
    # LADE (tau = 0): f + log pi_t
    lade = shift_head([3, 1], 0.0, [1, 4])
    torch.testing.assert_close(lade.predict_logits((x,)), torch.tensor([[1 + math.log(0.2), math.log(0.8)]]))
    assert int(lade.predict((x,))[0].pred_label) == 1
    # PC Softmax (tau = 1): g - log pi_s + log pi_t, the LADE notebook's get_prob for 'pc_softmax'
    pc = shift_head([3, 1], 1.0, [0.2, 0.8])  # probabilities as well as counts
    expected = torch.tensor([[1 - math.log(0.75) + math.log(0.2), -math.log(0.25) + math.log(0.8)]])
    torch.testing.assert_close(pc.predict_logits((x,)), expected)
    torch.testing.assert_close(pc.predict((x,))[0].pred_score, F.softmax(expected[0], 0))
    # training logits are never shifted
    torch.testing.assert_close(lade((x,)), x)
    torch.testing.assert_close(pc((x,)), x)


def test_uniform_target_is_no_shift():
    x = torch.randn(6, 5)
    for tau in (0.0, 1.0):
        plain, uniform = shift_head(COUNTS, tau, None), shift_head(COUNTS, tau, [50] * 5)
        a, b = plain.predict((x,)), uniform.predict((x,))
        for p, q in zip(a, b):
            assert int(p.pred_label) == int(q.pred_label)
            torch.testing.assert_close(p.pred_score, q.pred_score)
    torch.testing.assert_close(shift_head(COUNTS, 0.0, None).predict_logits((x,)), x)


def test_target_prior_from_files(tmp_path):
    # a "path label" list of the target split (as ImageNet_LT_test.txt), and a class_stats JSON
    lines = [f'img_{i}.png {label}' for i, label in enumerate([0, 1, 1, 2, 2, 2, 2])]
    listing = tmp_path / 'target.txt'
    listing.write_text('\n'.join(lines) + '\n')
    expected = torch.log(torch.tensor([1 / 7, 2 / 7, 4 / 7]))
    torch.testing.assert_close(target_log_prior(str(listing), 3), expected)
    from ltmm.core.class_stats import ClassStats
    path = ClassStats(7, [1, 2, 4], [1, 2, 4]).save(tmp_path / 'target.json')
    torch.testing.assert_close(target_log_prior(path, 3), expected)
    torch.testing.assert_close(target_log_prior(stats([1, 2, 4]), 3), expected)
    torch.testing.assert_close(target_log_prior(torch.tensor([1.0, 2.0, 4.0]), 3), expected)
    head = shift_head([5, 5, 5], 0.0, str(listing))
    torch.testing.assert_close(head.predict_logits((torch.zeros(1, 3),)), expected[None])


def test_target_prior_errors(tmp_path):
    with pytest.raises(ValueError, match='2 values .* num_classes=3'):
        target_log_prior([1, 2], 3)
    with pytest.raises(ValueError, match='finite and >= 0'):
        target_log_prior([1, -2, 3], 3)
    with pytest.raises(ValueError, match='finite and >= 0'):
        target_log_prior([1, float('nan'), 3], 3)
    with pytest.raises(ValueError, match='class index 1 has zero mass'):
        target_log_prior([4, 0, 3], 3)
    listing = tmp_path / 'target.txt'
    listing.write_text('a.png 0\nb.png 2\n')
    with pytest.raises(ValueError, match=f'{listing}: class index 1 has zero mass'):
        target_log_prior(str(listing), 3)
    with pytest.raises(ValueError, match='num_classes=4'):
        target_log_prior(stats([1, 2, 4]), 4)
    with pytest.raises(ValueError, match='zero mass'):
        shift_head(COUNTS, 0.0, [1, 1, 1, 1, 0])


def test_checkpoints():
    """Nothing of LADE is saved: the loss has no state, the head's shift is rebuilt from its config; a plain
    LinearClsHead checkpoint loads into the shifted head, so one trained model is tested under any target prior."""
    assert dict(LADELoss(stats(COUNTS)).state_dict()) == {}
    linear = LinearClsHead(num_classes=5, in_channels=5)
    head = shift_head(COUNTS, 0.0, [1, 2, 3, 4, 5])
    head.load_state_dict(linear.state_dict())
    assert set(head.state_dict()) == {'fc.weight', 'fc.bias'}
    x = torch.randn(3, 5)
    torch.testing.assert_close(head.predict_logits((x,)), linear((x,)) + target_log_prior([1, 2, 3, 4, 5], 5))


# ------------------------------------------------------------------------------------------- Digits-LT

@pytest.mark.slow
def test_digits_lt_config_trains_and_tests_under_a_target_prior(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    config = str(REPO / 'configs/lade/lade_lenet_1xb32_digits-lt_30e.py')
    loss, metrics, runner = train_two_iterations(config, tmp_path / 'uniform')
    assert math.isfinite(loss)
    assert type(runner.model.head.loss_module).__name__ == 'LADELoss'
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    # the target prior is a config input: here the (long-tailed) training list itself
    target = 'data/digits_lt/meta/train.txt'
    _, shifted, runner = train_two_iterations(config, tmp_path / 'shifted',
                                              dict(model=dict(head=dict(target_prior=target))))
    torch.testing.assert_close(runner.model.head.adjustment, -target_log_prior(target, 10))
    assert 0.0 <= shifted['shot/all'] <= 100.0
