"""NCL (Li et al., CVPR 2022): NCLLoss against a naive transcription of the official ``NIL_NBOD`` / ``NBOD``
(value and gradient), hard category mining by hand, the KL direction and factor, bad input, NCLClassifier, two gloo
ranks, and the Digits-LT config training on CPU."""
import math
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from ltmm.cls.classifiers import NCLClassifier, NCLCosineLinear
from ltmm.cls.losses import NCLLoss
from ltmm.cls.losses.ncl_loss import hcm_mask, nbod_per_sample

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

COUNTS = [50, 30, 20, 10, 6, 4, 3, 2]


def stats(counts=COUNTS):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(**kwargs):
    return NCLLoss(stats(kwargs.pop('counts', COUNTS)), **dict(dict(hcm_n=3), **kwargs))


def expert_logits(n=6, k=3, c=len(COUNTS), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, c, generator=g) * 2


def labels(n=6, c=len(COUNTS), seed=0):
    g = torch.Generator().manual_seed(seed + 100)
    return torch.randint(0, c, (n, ), generator=g)


def naive_nbod(inputs, factor):
    """The official ``NBOD`` (lib/loss/loss.py lines 6-24) transcribed."""
    num = len(inputs)
    if num == 1:
        return 0
    soft = [F.softmax(x, dim=1) for x in inputs]
    log_soft = [torch.log(p + 1e-9) for p in soft]
    loss = 0
    for i in range(num):
        for j in range(num):
            if i != j:
                loss += factor * F.kl_div(log_soft[i], soft[j], reduction='batchmean')
    return loss / (num - 1)


def naive_nil_nbod(inputs, target, counts, hcm_n, factor=0.6, factor_hcm=0.6, ce_ratio=1.0, hcm_ratio=1.0):
    """The official ``NIL_NBOD.forward`` (lib/loss/loss.py lines 78-106) transcribed; inputs (K, N, C)."""
    bsce_weight = torch.FloatTensor(counts)
    select = inputs[0].scatter(1, target.unsqueeze(1), 999999)
    top = select.sort(descending=True, dim=1)[1][:, :hcm_n]
    mask = torch.zeros_like(inputs[0]).scatter(1, top, 1)
    balance, hcm_balance, ce, ce_hcm = [], [], 0, 0
    for i in range(len(inputs)):
        logits = inputs[i] + bsce_weight.unsqueeze(0).expand(inputs[i].shape[0], -1).log()
        balance.append(logits)
        hcm_balance.append(logits * mask)
        ce += F.cross_entropy(logits, target)
        ce_hcm += F.cross_entropy(hcm_balance[i], target)
    return naive_nbod(balance, factor) + naive_nbod(hcm_balance, factor_hcm) + ce * ce_ratio + ce_hcm * hcm_ratio


@pytest.mark.parametrize('k,hcm_n,factor', [(3, 3, 0.6), (2, 5, 0.6), (4, 1, 0.3), (1, 3, 0.6), (3, 8, 0.0)])
def test_matches_the_official_value_and_gradient(k, hcm_n, factor):
    logits, target = expert_logits(k=k, seed=k), labels(seed=k)
    ours = logits.clone().requires_grad_()
    out = build(hcm_n=hcm_n, factor=factor, factor_hcm=0.5)(ours, target)
    out.backward()
    ref_in = logits.clone().requires_grad_()
    ref = naive_nil_nbod(ref_in.transpose(0, 1), target, COUNTS, hcm_n, factor=factor, factor_hcm=0.5)
    ref.backward()
    torch.testing.assert_close(out, ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.grad, ref_in.grad, rtol=1e-4, atol=1e-6)


def test_ratios_and_reduction_none():
    logits, target = expert_logits(), labels()
    loss = build(ce_ratio=0.5, hcm_ratio=2.0)
    ref = naive_nil_nbod(logits.transpose(0, 1), target, COUNTS, 3, ce_ratio=0.5, hcm_ratio=2.0)
    torch.testing.assert_close(loss(logits, target), ref, rtol=1e-5, atol=1e-5)
    per_sample = loss(logits, target, reduction_override='none')
    assert per_sample.shape == (6, )
    torch.testing.assert_close(per_sample.mean(), ref, rtol=1e-5, atol=1e-5)


def test_hard_category_mask_by_hand():
    z = torch.tensor([[5.0, 1.0, 4.0, -2.0, 3.0], [0.0, 9.0, 1.0, 2.0, -1.0]])
    mask = hcm_mask(z, torch.tensor([3, 1]), 3)
    # row 0: the target 3, then the largest others 0 (5) and 2 (4); row 1: target 1 (largest anyway), 3 (2), 2 (1)
    assert mask.tolist() == [[1, 0, 1, 1, 0], [0, 1, 1, 1, 0]]


def test_mask_uses_the_first_experts_raw_logits():
    """Expert 1's raw logits choose the classes: the count shift and the other experts do not."""
    counts = [1000, 1, 1, 1]
    logits = torch.tensor([[[0.0, 3.0, 2.0, 1.0], [9.0, 0.0, 0.0, 0.0]]])  # (N=1, K=2, C=4)
    target = torch.tensor([3])
    loss = build(counts=counts, hcm_n=2, factor=0.0, factor_hcm=0.0, ce_ratio=0.0)
    # mask {3, 1}: partial logits of expert k are (z_k + log n) * mask
    log_n = torch.tensor(counts, dtype=torch.float32).log()
    mask = torch.tensor([0.0, 1.0, 0.0, 1.0])
    expected = sum(F.cross_entropy(((logits[0, k] + log_n) * mask)[None], target) for k in range(2))
    torch.testing.assert_close(loss(logits, target), expected)


def test_kl_direction_and_factor():
    """NBOD of two experts = f * (KL(p_2 || p_1) + KL(p_1 || p_2)) / 1, no detach (both receive gradients)."""
    a = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    b = torch.tensor([[0.0, 1.0, 0.5]], requires_grad=True)
    out = nbod_per_sample(torch.stack([a, b], dim=1), 0.6)
    p, q = F.softmax(a, 1), F.softmax(b, 1)
    kl_qp = (q * (q.log() - torch.log(p + 1e-9))).sum()
    kl_pq = (p * (p.log() - torch.log(q + 1e-9))).sum()
    torch.testing.assert_close(out[0], 0.6 * (kl_qp + kl_pq), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    # three experts: divided by K - 1 = 2
    c = torch.tensor([[1.0, 1.0, 1.0]])
    three = nbod_per_sample(torch.stack([a, b, c], dim=1).detach(), 0.6)
    naive = naive_nbod([a.detach(), b.detach(), c], 0.6)
    torch.testing.assert_close(three[0], naive, rtol=1e-5, atol=1e-6)


def test_a_class_absent_from_the_batch_and_state():
    logits, target = expert_logits(), torch.zeros(6, dtype=torch.long)
    assert math.isfinite(build()(logits, target).item())
    assert build().state_dict() == {}  # the log counts are rebuilt from class_stats


def test_bad_input():
    with pytest.raises(ValueError, match='hcm_n'):
        build(hcm_n=9)
    with pytest.raises(ValueError, match='hcm_n'):
        build(hcm_n=0)
    with pytest.raises(ValueError, match='factor'):
        build(factor=-1.0)
    with pytest.raises(ValueError, match='class index 1 has no training image'):
        build(counts=[5, 0, 3, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match='num_classes'):
        NCLLoss(stats(), num_classes=5)
    with pytest.raises(ValueError, match='shape'):
        build()(torch.randn(6, len(COUNTS)), labels())
    with pytest.raises(ValueError, match='hard labels'):
        build()(expert_logits(), F.one_hot(labels(), len(COUNTS)).float())


# --------------------------------------------------------------------------------------------- classifier

def small_classifier(**kwargs):
    return NCLClassifier(backbone=dict(type='LeNet5', num_classes=-1), num_classes=len(COUNTS), in_channels=120,
                         loss=dict(type='NCLLoss', class_stats=stats(), hcm_n=3),
                         data_preprocessor=dict(num_classes=len(COUNTS)), **kwargs)


def test_classifier_independent_experts_and_mean_prediction():
    from mmpretrain.structures import DataSample

    torch.manual_seed(0)
    model = small_classifier(num_experts=3)
    w = [b.features[0].weight for b in model.backbones]
    assert w[0].data_ptr() != w[1].data_ptr() and not torch.equal(w[0], w[1])  # nothing shared
    x = torch.randn(4, 1, 32, 32)
    logits = model.expert_logits(x)
    assert logits.shape == (4, 3, len(COUNTS))
    torch.testing.assert_close(model(x), logits.mean(dim=1))
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    preds = model(x, samples, mode='predict')
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), F.softmax(logits.mean(dim=1), dim=1))
    loss = model(x, samples, mode='loss')['loss']
    torch.testing.assert_close(loss, model.loss_module(logits, torch.arange(4)))
    loss.backward()
    assert all(b.features[0].weight.grad is not None for b in model.backbones)


def test_cosine_classifier():
    fc = NCLCosineLinear(4, 3, scale=16.0)
    x = torch.randn(5, 4)
    with torch.no_grad():
        fc.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    expected = 16.0 * (x / x.norm(dim=1, keepdim=True)) @ (fc.weight / fc.weight.norm(dim=1, keepdim=True)).t()
    torch.testing.assert_close(fc(x), expected + fc.bias, rtol=1e-5, atol=1e-5)
    assert fc.bias.requires_grad
    model = small_classifier(classifier='cosine', cos_scale=32.0)
    assert all(isinstance(c, NCLCosineLinear) and c.scale == 32.0 for c in model.classifiers)


def test_classifier_bad_input():
    with pytest.raises(ValueError, match='classifier'):
        small_classifier(classifier='normed')
    with pytest.raises(TypeError, match='multi-expert'):
        NCLClassifier(backbone=dict(type='LeNet5', num_classes=-1), num_classes=len(COUNTS), in_channels=120,
                      loss=dict(type='BalancedSoftmaxLoss', class_stats=stats()))


# ------------------------------------------------------------------------------- two ranks (DDP, gloo)

def ddp_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        logits, target = expert_logits(n=8, seed=5), labels(n=8, seed=5)
        rows = slice(4 * rank, 4 * rank + 4)
        x = logits[rows].clone().requires_grad_()
        out = build()(x, target[rows])
        out.backward()
        torch.save((out.detach(), x.grad), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks_average_to_the_whole_batch(tmp_path):
    """Every term is a batch mean of per-sample terms: the ranks' losses and gradients, averaged as DDP does, are
    those of the whole batch on one process (equal per-rank batches, as the official drop_last sampler)."""
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    full = expert_logits(n=8, seed=5).requires_grad_()
    out = build()(full, labels(n=8, seed=5))
    out.backward()
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    torch.testing.assert_close((results[0][0] + results[1][0]) / 2, out.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.cat([r[1] for r in results]) / 2, full.grad, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------------------- Digits-LT

@pytest.mark.slow
def test_digits_lt_config_trains(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    config = str(REPO / 'configs/ncl/ncl_lenet_1xb32_digits-lt_30e.py')
    loss, metrics, runner = train_two_iterations(config, tmp_path / 'smoke')
    assert math.isfinite(loss)
    model = runner.model
    assert type(model).__name__ == 'NCLClassifier' and len(model.backbones) == 3
    assert model.loss_module.hcm_n == 3 and model.loss_module.factor == 0.6
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
