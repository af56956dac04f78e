"""The long-tail classification losses (issue 5): hand-computed values, agreement with naive re-implementations of
the official formulas (values and autograd gradients), soft labels, class-count edge cases, low precision."""
import math

import pytest
import torch
import torch.nn.functional as F

from ltmm.cls.losses import (
    BalancedBCELoss,
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SoftmaxEQLLoss,
)
from ltmm.core.reweighting import effective_number_weights

COUNTS = [500, 120, 40, 9, 1]  # includes a class with one image


def reweighted(loss):
    """The loss in the re-weighted phase of its DRW (``drw=dict(start_epoch=0)``, beta 0.9999)."""
    loss.drw.set_epoch(0)
    return loss


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def data(n=8, c=len(COUNTS), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 3, torch.randint(0, c, (n,), generator=g)


def mixup(label, c, lam=0.7, seed=1):
    g = torch.Generator().manual_seed(seed)
    onehot = F.one_hot(label, c).float()
    return lam * onehot + (1 - lam) * onehot[torch.randperm(len(label), generator=g)]


def check_grad(loss_fn, ref_fn, logits, label):
    """Value and gradient of ``loss_fn`` equal those of the naive reference under autograd."""
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    out, ref = loss_fn(a, label), ref_fn(b, label)
    out.backward()
    ref.backward()
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------------------- hand-computed

def test_balanced_softmax_and_logit_adjustment_by_hand():
    z, y = torch.zeros(1, 2), torch.tensor([0])
    # counts (1, 3): softmax(z + log n) = (1/4, 3/4) -> -log(1/4)
    assert BalancedSoftmaxLoss(stats([1, 3]))(z, y).item() == pytest.approx(math.log(4))
    assert LogitAdjustedLoss(stats([1, 3]), tau=1.0)(z, y).item() == pytest.approx(math.log(4))
    # tau = 2: prior^2 = (1/16, 9/16) -> p_0 = 1/10
    assert LogitAdjustedLoss(stats([1, 3]), tau=2.0)(z, y).item() == pytest.approx(math.log(10))
    # tau = 0 is plain cross-entropy
    z, y = data()
    torch.testing.assert_close(LogitAdjustedLoss(stats(COUNTS), tau=0.0)(z, y), F.cross_entropy(z, y))


def test_ldam_margins_and_value_by_hand():
    loss = LDAMLoss(stats([16, 1]), max_m=0.5, s=30.0)
    torch.testing.assert_close(loss.margins, torch.tensor([0.25, 0.5]))  # n^(-1/4) = (1/2, 1), rarest gets 0.5
    # z = 0, y = 1: logits (0, -15) -> -log(e^-15 / (1 + e^-15)) = 15 + log(1 + e^-15)
    value = loss(torch.zeros(1, 2), torch.tensor([1])).item()
    assert value == pytest.approx(15 + math.log1p(math.exp(-15)))


def test_class_balanced_weights_by_hand():
    beta = 0.9
    w = torch.tensor([(1 - beta) / (1 - beta ** 1), (1 - beta) / (1 - beta ** 2)])
    w = w / w.sum() * 2  # (1 / 1.9 * 2 * 1.0, ...) sums to C
    loss = ClassBalancedLoss(stats([1, 2]), beta=beta)
    torch.testing.assert_close(loss.class_weight, w)
    z, y = torch.zeros(2, 2), torch.tensor([0, 1])
    expected = (w[0] + w[1]) * math.log(2) / 2  # each CE is log 2, divided by N = 2
    assert loss(z, y, avg_factor=2).item() == pytest.approx(expected.item())


def test_balanced_bce_by_hand():
    z, y = torch.zeros(1, 2), torch.tensor([0])
    # pi = (1/2, 1/2): no bias; BCE(0, 1) + BCE(0, 0) = 2 log 2
    assert BalancedBCELoss(stats([5, 5]))(z, y).item() == pytest.approx(2 * math.log(2))
    # pi = (1/4, 3/4): logit bias log(pi / (1 - pi)) = (-log 3, log 3): -log sigmoid(-log 3) - log(1 - sigmoid(log 3))
    expected = -math.log(1 / 4) - math.log(1 / 4)
    assert BalancedBCELoss(stats([1, 3]))(z, y).item() == pytest.approx(expected)


def test_softmax_eql_by_hand():
    counts = [100, 1, 1]  # frequencies 0.98, 0.0098, 0.0098: classes 1 and 2 are tail classes under lambda 0.05
    z = torch.tensor([[1.0, 2.0, 3.0]])
    always = SoftmaxEQLLoss(stats(counts), lambda_=0.05, ignore_prob=1.0)
    torch.testing.assert_close(always.tail, torch.tensor([False, True, True]))
    assert always(z, torch.tensor([0])).item() == pytest.approx(0.0, abs=1e-6)  # only class 0 left
    # y = 1: the tail negative 2 goes, the head negative 0 and the ground truth stay
    assert always(z, torch.tensor([1])).item() == pytest.approx(-math.log(math.exp(2) / (math.exp(1) + math.exp(2))))
    never = SoftmaxEQLLoss(stats(counts), lambda_=0.05, ignore_prob=0.0)
    torch.testing.assert_close(never(z, torch.tensor([1])), F.cross_entropy(z, torch.tensor([1])))


# ------------------------------------------------------------------------------ against the official formulas

def naive_ldam(z, y, counts, max_m=0.5, s=30.0, w=None):
    """kaidic/LDAM-DRW losses.py, written out: margins on the target logit, F.cross_entropy(s * out, y, weight=w)."""
    m = 1.0 / torch.tensor(counts, dtype=torch.float32).sqrt().sqrt()
    m = m * (max_m / m.max())
    index = F.one_hot(y, len(counts)).bool()
    out = torch.where(index, z - m[y][:, None], z)
    return F.cross_entropy(s * out, y, weight=w)


def test_ldam_matches_official_form_with_and_without_drw_weights():
    z, y = data(16)
    z = torch.tanh(z)  # cosine logits
    plain = LDAMLoss(stats(COUNTS))
    check_grad(lambda a, t: plain(a, t, avg_factor=16), lambda a, t: naive_ldam(a, t, COUNTS), z, y)
    w = effective_number_weights(COUNTS, 0.9999)
    loss = reweighted(LDAMLoss(stats(COUNTS), drw=dict(start_epoch=0)))
    torch.testing.assert_close(loss.class_weight, w)
    # official normalisation: sum_i w_yi l_i / sum_i w_yi, whatever avg_factor the head passes
    check_grad(lambda a, t: loss(a, t, avg_factor=16), lambda a, t: naive_ldam(a, t, COUNTS, w=w), z, y)
    batch = reweighted(LDAMLoss(stats(COUNTS), normalize='batch', drw=dict(start_epoch=0)))
    expected = F.cross_entropy(30 * (z - loss.margins * F.one_hot(y, 5)), y, weight=w, reduction='sum') / 16
    torch.testing.assert_close(batch(z, y, avg_factor=16), expected)


def test_ldam_soft_labels_are_the_expected_loss():
    z, y = data(12)
    z = torch.tanh(z)
    soft = mixup(y, 5)
    w = effective_number_weights(COUNTS, 0.9999)
    loss = reweighted(LDAMLoss(stats(COUNTS), drw=dict(start_epoch=0)))

    def expectation(a, t):  # sum_k y_k w_k LDAM(a, k), normalised by sum_ik y_ik w_k
        per_k = torch.stack([w[k] * F.cross_entropy(30 * (a - loss.margins[k] * F.one_hot(torch.tensor(k), 5)),
                                                    torch.full((len(a),), k), reduction='none')
                             for k in range(5)], dim=1)
        return (t * per_k).sum() / (t @ w).sum()

    check_grad(lambda a, t: loss(a, t), expectation, z, soft)
    # mixup of two classes is LiVT's v1 * L(y1) + v2 * L(y2) (unweighted); one-hot soft labels equal hard ones
    plain = LDAMLoss(stats(COUNTS))
    onehot = F.one_hot(y, 5).float()
    torch.testing.assert_close(plain(z, onehot), plain(z, y), rtol=1e-5, atol=1e-5)


def test_class_balanced_softmax_sigmoid_focal_match_official_forms():
    z, y = data(16)
    beta, gamma = 0.999, 2.0
    w = effective_number_weights(COUNTS, beta)
    onehot = F.one_hot(y, 5).float()

    def tf_softmax(a, t):  # tf.losses.softmax_cross_entropy(onehot, z, weights=w_y): SUM_BY_NONZERO_WEIGHTS
        return (w[t] * F.cross_entropy(a, t, reduction='none')).sum() / len(t)

    def tf_focal(a, t, g):  # class-balanced-loss focal_loss: alpha = w_y tiled, / sum(labels)
        p = torch.sigmoid(a)
        pt = torch.where(onehot.bool(), p, 1 - p)
        bce = F.binary_cross_entropy_with_logits(a, onehot, reduction='none')
        return (w[t][:, None] * (1 - pt) ** g * bce).sum() / onehot.sum()

    for loss_type, ref in (('softmax', tf_softmax), ('sigmoid', lambda a, t: tf_focal(a, t, 0.0)),
                           ('focal', lambda a, t: tf_focal(a, t, gamma))):
        loss = ClassBalancedLoss(stats(COUNTS), beta=beta, loss_type=loss_type, gamma=gamma)
        check_grad(lambda a, t: loss(a, t, avg_factor=len(t)), ref, z, y)
    # normalize='sum_weights' is PyTorch's weighted mean
    sum_w = ClassBalancedLoss(stats(COUNTS), beta=beta, normalize='sum_weights')
    torch.testing.assert_close(sum_w(z, y, avg_factor=16), F.cross_entropy(z, y, weight=w))
    # beta = 0: unweighted
    torch.testing.assert_close(ClassBalancedLoss(stats(COUNTS), beta=0.0)(z, y), F.cross_entropy(z, y))


def test_logit_adjusted_and_balanced_softmax_gradients():
    z, y = data(16)
    n = torch.tensor(COUNTS, dtype=torch.float32)
    check_grad(BalancedSoftmaxLoss(stats(COUNTS)), lambda a, t: F.cross_entropy(a + n.log(), t), z, y)
    prior = n / n.sum()
    check_grad(LogitAdjustedLoss(stats(COUNTS), tau=1.5),
               lambda a, t: F.cross_entropy(a + torch.log(prior ** 1.5 + 1e-12), t), z, y)


def test_balanced_bce_matches_livt():
    z, y = data(16)
    n = torch.tensor(COUNTS, dtype=torch.float32)
    pi = n / n.sum()
    eps = 0.1

    def livt(a, t):  # C * BCEWithLogits(z + log pi - log(1 - pi), smoothed one-hot).mean()
        target = torch.full((len(t), 5), eps / 5).scatter_(1, t[:, None], 1 - eps + eps / 5)
        return 5 * F.binary_cross_entropy_with_logits(a + pi.log() - (1 - pi).log(), target)

    check_grad(BalancedBCELoss(stats(COUNTS), label_smoothing=eps), livt, z, y)


def test_softmax_eql_drops_tail_negatives_at_the_given_rate():
    counts = [1000, 500, 2, 1, 0]  # a class without images is a tail class (defined behaviour)
    loss = SoftmaxEQLLoss(stats(counts), lambda_=0.01, ignore_prob=0.9)
    torch.testing.assert_close(loss.tail, torch.tensor([False, False, True, True, True]))
    z = torch.zeros(20000, 5)
    y = torch.zeros(20000, dtype=torch.long)
    torch.manual_seed(0)
    per_sample = loss(z, y, reduction_override='none')
    # with all logits 0, the loss is log(number of kept classes) = log(2 + K), K ~ Binomial(3, 0.1)
    kept = per_sample.exp().round() - 2
    assert kept.mean().item() == pytest.approx(3 * 0.1, abs=0.02)
    # the ground truth is never dropped, even when it is a tail class
    assert torch.isfinite(loss(torch.randn(64, 5), torch.full((64,), 4))).all()


# ------------------------------------------------------------------------ reductions, labels, edge cases

ALL = [
    lambda s: BalancedSoftmaxLoss(s),
    lambda s: LogitAdjustedLoss(s, tau=1.0),
    lambda s: LDAMLoss(s),
    lambda s: ClassBalancedLoss(s, loss_type='softmax'),
    lambda s: ClassBalancedLoss(s, loss_type='focal'),
    lambda s: SoftmaxEQLLoss(s, lambda_=0.05, ignore_prob=0.0),
    lambda s: BalancedBCELoss(s),
]


@pytest.mark.parametrize('make', ALL)
def test_reductions_weights_and_soft_labels(make):
    loss = make(stats(COUNTS))
    z, y = data(6)
    per_sample = loss(z, y, reduction_override='none')
    assert per_sample.shape == (6,) and torch.isfinite(per_sample).all()
    torch.testing.assert_close(loss(z, y, reduction_override='sum'), per_sample.sum())
    weight = torch.tensor([1.0, 0, 2, 1, 1, 0])
    torch.testing.assert_close(loss(z, y, weight=weight, reduction_override='none'), per_sample * weight)
    # one-hot soft labels equal hard labels; true mixup labels give a finite loss with a gradient
    torch.testing.assert_close(loss(z, F.one_hot(y, 5).float()), loss(z, y), rtol=1e-5, atol=1e-5)
    a = z.clone().requires_grad_()
    loss(a, mixup(y, 5), avg_factor=6).backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('make', ALL)
def test_low_precision_logits(make, dtype):
    loss = make(stats(COUNTS))
    z, y = data(6)
    z = z.to(dtype)
    a = z.clone().requires_grad_()
    out = loss(a, y, avg_factor=6)
    assert out.dtype == torch.float32  # computed in float32 under AMP
    torch.testing.assert_close(out, loss(z.float(), y, avg_factor=6))
    out.backward()
    assert a.grad.dtype == dtype and torch.isfinite(a.grad.float()).all()


@pytest.mark.parametrize('make', [m for i, m in enumerate(ALL) if i != 5])
def test_zero_count_is_an_error_naming_the_class(make):
    with pytest.raises(ValueError, match='class index 2'):
        make(stats([10, 3, 0, 1]))


@pytest.mark.parametrize('make', ALL)
def test_bad_inputs_are_clear_errors(make):
    loss = make(stats(COUNTS))
    z, y = data(4)
    with pytest.raises(ValueError, match='has 5 classes'):
        loss(torch.zeros(4, 3), y)
    with pytest.raises(ValueError, match='matches neither'):
        loss(z, torch.zeros(4, 2))
    with pytest.raises(ValueError, match='integer class indices'):
        loss(z, y.float())
    with pytest.raises(ValueError, match='reduction_override'):
        loss(z, y, reduction_override='avg')


def test_argument_errors():
    with pytest.raises(ValueError, match='loss_type'):
        ClassBalancedLoss(stats(COUNTS), loss_type='softmax_focal')
    with pytest.raises(ValueError, match='normalize'):
        LDAMLoss(stats(COUNTS), normalize='n')
    with pytest.raises(ValueError, match='ignore_prob'):
        SoftmaxEQLLoss(stats(COUNTS), ignore_prob=1.5)
    with pytest.raises(ValueError, match='at least 2 classes'):
        BalancedBCELoss(stats([7]))
    with pytest.raises(ValueError, match='start_epoch'):
        LDAMLoss(stats(COUNTS), drw=dict(start_epoch=-1))
    with pytest.raises(ValueError, match='beta'):
        LDAMLoss(stats(COUNTS), drw=dict(start_epoch=3, beta=1.0))
    with pytest.raises(ValueError, match='num_classes=4'):
        LDAMLoss(stats(COUNTS), num_classes=4)
    with pytest.raises(ValueError, match='reduction_override'):
        LDAMLoss(stats(COUNTS))(*data(2), reduction_override='avg')


def test_class_stats_from_a_list_file(tmp_path):
    lst = tmp_path / 'train.txt'
    lst.write_text(''.join(f'img_{c}_{i}.png {c}\n' for c, n in enumerate([4, 2, 1]) for i in range(n)))
    loss = BalancedSoftmaxLoss(str(lst))
    torch.testing.assert_close(loss.class_counts, torch.tensor([4.0, 2.0, 1.0]))


def test_built_from_config_inside_an_mmpretrain_head():
    """Through the registry and mmpretrain's ClsHead, with hard labels and with mixup's gt_score."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    init_default_scope('mmpretrain')
    for loss_cfg in (dict(type='BalancedSoftmaxLoss'), dict(type='LogitAdjustedLoss', tau=1.0),
                     dict(type='LDAMLoss', max_m=0.5, s=30.0), dict(type='ClassBalancedLoss', loss_type='focal'),
                     dict(type='SoftmaxEQLLoss', lambda_=0.05, ignore_prob=0.9), dict(type='BalancedBCELoss')):
        head = MODELS.build(dict(type='LinearClsHead', num_classes=5, in_channels=8,
                                 loss=dict(loss_cfg, class_stats=stats(COUNTS))))
        feats = (torch.randn(4, 8),)
        hard = [DataSample().set_gt_label(int(i)) for i in (0, 1, 4, 2)]
        soft = [DataSample().set_gt_score(s) for s in mixup(torch.tensor([0, 1, 4, 2]), 5)]
        for samples in (hard, soft):
            losses = head.loss(feats, samples)
            assert torch.isfinite(losses['loss']), loss_cfg


@pytest.mark.parametrize('make', ALL)
def test_float32_inside_autocast(make):
    """Under AMP (CPU autocast to bfloat16 here) the loss terms stay float32: same value as outside autocast."""
    loss = make(stats(COUNTS))
    if loss.supports_drw:
        loss.adopt_drw(0, 0.9999)
        reweighted(loss)
    z, y = data(6)
    for label in (y, mixup(y, 5)):
        expected = loss(z, label, avg_factor=6)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = loss(z.bfloat16(), label, avg_factor=6)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, loss(z.bfloat16().float(), label, avg_factor=6))
        assert out.item() == pytest.approx(expected.item(), rel=0.05)
