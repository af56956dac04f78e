"""Weighted Softmax (the long-tail survey's weighted cross-entropy): the weights 1 + ln(n_max / n_c) by hand, the
module against a naive transcription of the official loss (value and gradient), PyTorch's sum-of-weights mean,
soft labels, count edge cases, and the Digits-LT config training on CPU."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import WeightedSoftmaxLoss
from ltmm.cls.losses.weighted_softmax_loss import log_ratio_weights

from ..helpers import REPO
from .digits_lt_smoke import train_two_iterations

COUNTS = [500, 120, 40, 9, 1]


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def naive_official(logits, label, counts):
    """Vanint/Awesome-LongTailed-Learning Main-codebase/loss/WeightedSoftmaxLoss.py, sample by sample: prob = n / sum,
    prob /= max(prob), w = -log(prob) + 1, then nn.CrossEntropyLoss(weight=w)'s mean sum_i w_yi l_i / sum_i w_yi."""
    total = sum(counts)
    prob = [n / total for n in counts]
    prob = [p / max(prob) for p in prob]
    weight = [1.0 - math.log(p) for p in prob]
    num, den = 0.0, 0.0
    for i in range(logits.size(0)):
        y = int(label[i])
        num = num + weight[y] * (torch.logsumexp(logits[i], 0) - logits[i, y])
        den += weight[y]
    return num / den


def test_weights_by_hand():
    # n_max = 500: the head class 1; a class e^k times rarer 1 + k
    torch.testing.assert_close(log_ratio_weights([500, 50, 5]),
                               torch.tensor([1.0, 1 + math.log(10), 1 + math.log(100)]))
    torch.testing.assert_close(log_ratio_weights([8, 4, 2, 1]), torch.tensor([1.0, 1 + math.log(2),
                                                                              1 + math.log(4), 1 + math.log(8)]))
    # the head class need not be first; equal counts give all ones (plain cross-entropy)
    torch.testing.assert_close(log_ratio_weights([3, 6]), torch.tensor([1 + math.log(2), 1.0]))
    torch.testing.assert_close(log_ratio_weights([7, 7, 7]), torch.ones(3))
    # ImageNet-LT's extremes (1,280 and 5): 1 + ln 256 = 6.545; not 1 / n
    assert log_ratio_weights([1280, 5])[1].item() == pytest.approx(1 + math.log(256))
    loss = WeightedSoftmaxLoss(stats(COUNTS))
    torch.testing.assert_close(loss.class_weight, log_ratio_weights(COUNTS))


def test_hand_computed_value():
    # counts (4, 1): w = (1, 1 + ln 4); sample 0: logits (0, 0), label 0, l = ln 2; sample 1: logits (0, ln 3),
    # label 1, l = -ln(3/4); mean = (ln 2 + (1 + ln 4) ln(4/3)) / (1 + 1 + ln 4)
    w1 = 1 + math.log(4)
    expected = (math.log(2) + w1 * math.log(4 / 3)) / (1 + w1)
    z = torch.tensor([[0.0, 0.0], [0.0, math.log(3)]])
    out = MODELS.build(dict(type='WeightedSoftmaxLoss', class_stats=stats([4, 1])))(z, torch.tensor([0, 1]),
                                                                                  avg_factor=2)
    assert out.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_the_official_value_and_gradient(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(12, len(COUNTS), generator=g) * 3
    label = torch.randint(0, len(COUNTS), (12,), generator=g)
    label[:3] = 0  # class 4 (one image) may be absent: the weights still come from all classes
    a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    out = WeightedSoftmaxLoss(stats(COUNTS))(a, label, avg_factor=12)
    ref = naive_official(b, label, COUNTS)
    out.backward()
    ref.backward()
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-7)
    # and PyTorch's own weighted cross-entropy, the official module
    torch.testing.assert_close(out, F.cross_entropy(logits, label, weight=log_ratio_weights(COUNTS)))


def test_normalisation_reduction_and_soft_labels():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(6, len(COUNTS), generator=g)
    label = torch.tensor([0, 1, 2, 3, 4, 4])
    w = log_ratio_weights(COUNTS)
    per_sample = w[label] * F.cross_entropy(logits, label, reduction='none')
    loss = WeightedSoftmaxLoss(stats(COUNTS))
    torch.testing.assert_close(loss(logits, label, reduction_override='none'), per_sample)
    torch.testing.assert_close(loss(logits, label, reduction_override='sum'), per_sample.sum())
    torch.testing.assert_close(loss(logits, label, avg_factor=6), per_sample.sum() / w[label].sum())
    by_batch = WeightedSoftmaxLoss(stats(COUNTS), normalize='batch', loss_weight=2.0)
    torch.testing.assert_close(by_batch(logits, label, avg_factor=6), 2.0 * per_sample.sum() / 6)
    # soft labels: one-hot rows give the hard-label loss; a mixed row weighs each class's log-probability
    onehot = F.one_hot(label, len(COUNTS)).float()
    torch.testing.assert_close(loss(logits, onehot, avg_factor=6), loss(logits, label, avg_factor=6))
    soft = 0.7 * onehot + 0.3 * onehot.roll(1, dims=0)
    logp = F.log_softmax(logits, dim=1)
    expected = -(soft * w * logp).sum() / (soft * w).sum()
    torch.testing.assert_close(loss(logits, soft, avg_factor=6), expected)


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='class index 2'):
        WeightedSoftmaxLoss(stats([5, 3, 0]))
    with pytest.raises(ValueError, match='num_classes=4'):
        WeightedSoftmaxLoss(stats(COUNTS), num_classes=4)
    with pytest.raises(ValueError, match='normalize'):
        WeightedSoftmaxLoss(stats(COUNTS), normalize='mean')
    with pytest.raises(ValueError, match=r'shape \(2, 3\)'):
        WeightedSoftmaxLoss(stats(COUNTS))(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='count >= 1'):
        log_ratio_weights([4, 0])


def test_no_state_in_checkpoints():
    """The weights follow from class_stats: nothing to save, a rebuilt loss is the same loss."""
    loss = WeightedSoftmaxLoss(stats(COUNTS))
    assert dict(loss.state_dict()) == {}
    rebuilt = WeightedSoftmaxLoss(stats(COUNTS))
    rebuilt.load_state_dict(loss.state_dict())
    torch.testing.assert_close(rebuilt.class_weight, loss.class_weight)


@pytest.mark.slow
def test_digits_lt_config_trains(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    config = str(REPO / 'configs/weighted_softmax/weighted-softmax_lenet_1xb32_digits-lt_30e.py')
    loss, metrics, runner = train_two_iterations(config, tmp_path)
    assert math.isfinite(loss) and loss > 0
    assert type(runner.model.head.loss_module).__name__ == 'WeightedSoftmaxLoss'
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
