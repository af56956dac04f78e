"""DistributionBalancedLoss: hand-computed terms, a naive element-by-element reference (values and gradients),
switches, reductions, dtypes and errors."""
import math

import pytest
import torch
import torch.nn.functional as F

import ltmm.multilabel  # noqa: F401  (registration)
from ltmm.multilabel.losses.distribution_balanced_loss import (
    DistributionBalancedLoss,
    cb_weight,
    ntr_bias,
    rebalance_weight,
)

COUNTS = [1, 2, 4, 8]
N = 10
STATS = dict(num_images=N, image_count=COUNTS, instance_count=COUNTS)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_rebalance_weight_by_hand():
    label = torch.tensor([[1., 1., 0., 0.], [0., 0., 0., 0.]])
    w = rebalance_weight(label, torch.tensor(COUNTS, dtype=torch.float32), alpha=0.1, beta=10.0, mu=0.3)
    repeat = 1 / 1 + 1 / 2  # R(x) of the first sample
    expected = [sigmoid(10 * ((1 / n) / repeat - 0.3)) + 0.1 for n in COUNTS]
    assert w[0].tolist() == pytest.approx(expected, rel=1e-6)
    assert w[0, 0] > w[0, 1] > w[0, 3], 'rarer classes weigh more'
    assert w[1].tolist() == pytest.approx([1.1] * 4), 'no positive label: r = inf, weight 1 + alpha'


def test_ntr_bias_by_hand():
    bias = ntr_bias(torch.tensor([1., 5., 9.]), 10, kappa=0.05, lam=5.0)
    assert bias.tolist() == pytest.approx([-0.05 * math.log(9) / 5, 0.0, 0.05 * math.log(9) / 5], abs=1e-7)
    assert ntr_bias(torch.tensor([10., 3.]), 10, kappa=0.0, lam=5.0).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r'classes \[0\].*all N=10'):
        ntr_bias(torch.tensor([10., 3.]), 10)


def test_cb_weight_modes_by_hand():
    label = torch.tensor([[1., 1., 0., 0.], [0., 0., 0., 0.]])
    counts = torch.tensor(COUNTS, dtype=torch.float32)

    def w(n):
        return 0.1 / (1 - 0.9 ** n)

    by_class = cb_weight(label, counts, 0.9, 'by_class')
    assert by_class.shape == (1, 4) and by_class[0].tolist() == pytest.approx([w(n) for n in COUNTS], rel=1e-6)
    assert cb_weight(label, counts, 0.9, 'average_w')[:, 0].tolist() == pytest.approx([(w(1) + w(2)) / 2, 0.1])
    assert cb_weight(label, counts, 0.9, 'average_n')[:, 0].tolist() == pytest.approx([w(1.5), 0.1], rel=1e-6)
    assert cb_weight(label, counts, 0.9, 'min_n')[:, 0].tolist() == pytest.approx([w(1), 0.1], rel=1e-6)
    with pytest.raises(ValueError, match='cb_mode'):
        cb_weight(label, counts, 0.9, 'max_n')


def test_focal_term_and_balance_param_by_hand():
    loss = DistributionBalancedLoss(STATS, reweight=None, ntr_kappa=0.0, ntr_lambda=1.0)
    # z = 0, y = 1: BCE = log 2, p = 1/2, loss = 2.0 * (1 - 1/2)^2 * log 2; negatives with z = 0 alike
    value = loss(torch.zeros(1, 4), torch.tensor([[1., 0., 0., 0.]]))
    assert value.item() == pytest.approx(2.0 * 0.25 * math.log(2), rel=1e-6)
    z = torch.tensor([[2.0, -1.0, 0.5, 3.0]])
    y = torch.tensor([[1., 0., 1., 0.]])
    bce = F.binary_cross_entropy_with_logits(z, y, reduction='none')
    expected = (2.0 * (1 - torch.exp(-bce)) ** 2 * bce).mean()
    assert loss(z, y).item() == pytest.approx(expected.item(), rel=1e-6)


def test_ntr_negative_scaling_by_hand():
    loss = DistributionBalancedLoss(STATS, reweight=None, focal=False, ntr_kappa=0.0, ntr_lambda=2.0)
    z = torch.tensor([[0.3, -0.7, 1.2, 0.0]])
    y = torch.tensor([[1., 0., 0., 1.]])
    soft = F.softplus
    # positives: softplus(-z); negatives: softplus(lambda z) / lambda
    expected = (soft(-z[0, 0]) + soft(2 * z[0, 1]) / 2 + soft(2 * z[0, 2]) / 2 + soft(-z[0, 3])) / 4
    assert loss(z, y).item() == pytest.approx(expected.item(), rel=1e-6)
    with_bias = DistributionBalancedLoss(STATS, reweight=None, focal=False, ntr_kappa=0.05, ntr_lambda=2.0)
    nu = [-0.05 * math.log(N / n - 1) / 2.0 for n in COUNTS]
    zb = [z[0, i].item() + nu[i] for i in range(4)]
    expected = (math.log1p(math.exp(-zb[0])) + math.log1p(math.exp(2 * zb[1])) / 2
                + math.log1p(math.exp(2 * zb[2])) / 2 + math.log1p(math.exp(-zb[3]))) / 4
    assert with_bias(z, y).item() == pytest.approx(expected, rel=1e-6)


def naive_db_loss(z, y, counts, num_images, reweight, focal, kappa, lam, alpha=0.1, beta=10.0, mu=0.3,
                  cb_beta=0.9, gamma=2.0, balance_param=2.0):
    """Element-by-element float64 reference of the DB loss, written straight from the paper's equations."""
    rows, cols = y.shape
    total = 0.0
    for k in range(rows):
        positives = [j for j in range(cols) if y[k, j] > 0]
        repeat = sum(1.0 / counts[j] for j in positives)
        for i in range(cols):
            if reweight == 'rebalance':
                r = (1.0 / counts[i]) / repeat if repeat > 0 else math.inf
                w = sigmoid(beta * (r - mu)) + alpha
            elif reweight == 'inv':
                w = num_images / counts[i]
            elif reweight == 'sqrt_inv':
                w = math.sqrt(num_images / counts[i])
            elif reweight == 'CB':  # average_w
                ws = [(1 - cb_beta) / (1 - cb_beta ** counts[j]) for j in positives]
                w = sum(ws) / len(ws) if ws else 1 - cb_beta
            else:
                w = 1.0
            nu = -kappa * math.log(num_images / counts[i] - 1) / lam
            if y[k, i] > 0:
                zz = z[k, i] + nu
                bce = F.softplus(-zz)
                p = torch.sigmoid(zz)
            else:
                zz = lam * (z[k, i] + nu)
                w = w / lam
                bce = F.softplus(zz)
                p = 1 - torch.sigmoid(zz)
            term = w * bce
            if focal:
                term = balance_param * (1 - p) ** gamma * term
            total = total + term
    return total / (rows * cols)


@pytest.mark.parametrize('reweight', [None, 'rebalance', 'inv', 'sqrt_inv', 'CB'])
@pytest.mark.parametrize('focal,kappa,lam', [(True, 0.05, 5.0), (False, 0.05, 2.0), (True, 0.0, 1.0)])
def test_matches_naive_reference_values_and_gradients(reweight, focal, kappa, lam):
    gen = torch.Generator().manual_seed(0)
    z = (torch.randn(5, 4, generator=gen, dtype=torch.float64) * 3).requires_grad_()
    y = (torch.rand(5, 4, generator=gen) < 0.4).double()
    y[4] = 0  # a sample without any positive label
    loss = DistributionBalancedLoss(STATS, reweight=reweight, focal=focal, ntr_kappa=kappa, ntr_lambda=lam)
    ours = loss(z, y)
    ref = naive_db_loss(z, y, COUNTS, N, reweight, focal, kappa, lam)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    (g_ours,) = torch.autograd.grad(ours, z)
    (g_ref,) = torch.autograd.grad(ref, z)
    torch.testing.assert_close(g_ours.double(), g_ref, rtol=1e-4, atol=1e-7)


def test_reductions_avg_factor_weights_and_index_labels():
    loss = DistributionBalancedLoss(STATS)
    z = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(6, 4)
    y[torch.arange(5), torch.tensor([0, 1, 2, 3, 1])] = 1
    elementwise = loss(z, y, reduction_override='none')
    assert elementwise.shape == (6, 4)
    assert loss(z, y).item() == pytest.approx(elementwise.mean().item(), rel=1e-6)
    assert loss(z, y, reduction_override='sum').item() == pytest.approx(elementwise.sum().item(), rel=1e-6)
    # mmpretrain's multi-label heads pass avg_factor = batch size: still the mean over B x C
    assert loss(z, y, avg_factor=6).item() == pytest.approx(elementwise.mean().item(), rel=1e-5)
    sample_w = torch.tensor([1., 0., 2., 1., 1., 0.5])
    assert loss(z, y, weight=sample_w).item() == pytest.approx(
        (elementwise * sample_w[:, None]).mean().item(), rel=1e-6)
    # class indices with C = "no class" equal the multi-hot rows
    index = torch.tensor([0, 1, 2, 3, 1, 4])
    assert loss(z, index).item() == pytest.approx(loss(z, y).item(), rel=1e-6)
    assert DistributionBalancedLoss(STATS, loss_weight=3.0)(z, y).item() == pytest.approx(3 * loss(z, y).item())


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_logits_are_computed_in_float32(dtype):
    loss = DistributionBalancedLoss(STATS)
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(2)) * 4
    y = (torch.rand(8, 4, generator=torch.Generator().manual_seed(3)) < 0.3).float()
    half = z.to(dtype).requires_grad_()
    out = loss(half, y.to(dtype))
    assert out.dtype == torch.float32 and torch.isfinite(out)
    assert out.item() == pytest.approx(loss(half.detach().float(), y).item(), rel=1e-6)
    out.backward()
    assert half.grad.dtype == dtype and torch.isfinite(half.grad.float()).all()


def test_bad_input_errors():
    with pytest.raises(ValueError, match='class index 1'):
        DistributionBalancedLoss(dict(num_images=5, image_count=[2, 0], instance_count=[2, 0]))
    with pytest.raises(ValueError, match='num_classes=3'):
        DistributionBalancedLoss(STATS, num_classes=3)
    with pytest.raises(ValueError, match='reweight'):
        DistributionBalancedLoss(STATS, reweight='balanced')
    with pytest.raises(ValueError, match='all N=2'):
        DistributionBalancedLoss(dict(num_images=2, image_count=[2, 1], instance_count=[2, 1]))
    loss = DistributionBalancedLoss(STATS)
    with pytest.raises(ValueError, match=r'has shape \(2, 3\) but must be \(N, C\) .* has 4 classes'):
        loss(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match='3 labels for 2 samples'):
        loss(torch.zeros(2, 4), torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r'label shape \(2, 3\) is neither \(B, 4\) targets'):
        loss(torch.zeros(2, 4), torch.zeros(2, 3))


def test_registered_and_usable_in_an_mmpretrain_multilabel_head(tmp_path):
    from mmdet.registry import MODELS as DET_MODELS
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    stats_file = tmp_path / 'train.txt'
    stats_file.write_text('a.png 0 1\nb.png 0\nc.png 2\nd.png 0 3\ne.png 1\n')
    assert isinstance(DET_MODELS.build(dict(type='DistributionBalancedLoss', class_stats=STATS)),
                      DistributionBalancedLoss)
    head = MODELS.build(dict(type='MultiLabelLinearClsHead', num_classes=4, in_channels=8,
                             loss=dict(type='DistributionBalancedLoss', class_stats=str(stats_file))))
    assert head.loss_module.class_counts.tolist() == [3, 2, 1, 1] and head.loss_module.num_images == 5
    feats = (torch.randn(3, 8, generator=torch.Generator().manual_seed(0)),)
    samples = [DataSample().set_gt_label(ls) for ls in ([0, 1], [2], [0, 3])]
    losses = head.loss(feats, samples)
    logits = head(feats)
    y = torch.tensor([[1., 1., 0., 0.], [0., 0., 1., 0.], [1., 0., 0., 1.]])
    assert losses['loss'].item() == pytest.approx(head.loss_module(logits, y).item(), rel=1e-6)
    losses['loss'].backward()
    assert head.fc.weight.grad is not None and torch.isfinite(head.fc.weight.grad).all()
