"""Softmax focal loss in the survey's and LDAM-DRW's forms: a hand value, each form against a naive transcription of
its official file (value and gradient), the difference between the two gradients, reductions and soft labels, bad
arguments, and the Digits-LT config training on CPU."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import SoftmaxFocalLoss

from ..helpers import REPO
from .digits_lt_smoke import train_two_iterations

COUNTS = [50, 20, 5, 1]


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def naive_survey(logits, label, gamma):
    """Vanint/Awesome-LongTailed-Learning Main-codebase/loss/FocalLoss.py: logpt = log_softmax(z)[y],
    pt = logpt.detach().exp(), loss = mean(-(1 - pt)^gamma logpt), sample by sample."""
    total = 0.0
    for i in range(logits.size(0)):
        logpt = torch.log_softmax(logits[i], 0)[int(label[i])]
        pt = logpt.detach().exp()
        total = total + -((1 - pt) ** gamma) * logpt
    return total / logits.size(0)


def naive_ldam_drw(logits, label, gamma):
    """kaidic/LDAM-DRW losses.py FocalLoss (no class weight): ce_i = F.cross_entropy(z, y, reduction='none'),
    p = exp(-ce), loss = mean((1 - p)^gamma ce), nothing detached."""
    total = 0.0
    for i in range(logits.size(0)):
        ce = torch.logsumexp(logits[i], 0) - logits[i, int(label[i])]
        p = torch.exp(-ce)
        total = total + (1 - p) ** gamma * ce
    return total / logits.size(0)


def test_hand_value():
    # two classes, logits (0, ln 3): p = (1/4, 3/4); label 0: (3/4)^2 ln 4; label 1: (1/4)^2 ln(4/3)
    z = torch.tensor([[0.0, math.log(3)], [0.0, math.log(3)]])
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', class_stats=stats([3, 1]), gamma=2.0))
    expected = (0.5625 * math.log(4) + 0.0625 * math.log(4 / 3)) / 2
    assert loss(z, torch.tensor([0, 1]), avg_factor=2).item() == pytest.approx(expected, rel=1e-6)
    # gamma 0 is cross-entropy, in both forms
    for detach in (True, False):
        ce = SoftmaxFocalLoss(stats([3, 1]), gamma=0.0, detach_pt=detach)
        torch.testing.assert_close(ce(z, torch.tensor([0, 1])), F.cross_entropy(z, torch.tensor([0, 1])))


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('gamma', [1.0, 3.0])
def test_matches_the_official_files(seed, gamma):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(10, len(COUNTS), generator=g) * 3
    label = torch.randint(0, len(COUNTS), (10,), generator=g)
    for detach, naive in ((True, naive_survey), (False, naive_ldam_drw)):
        a, b = logits.clone().requires_grad_(), logits.clone().requires_grad_()
        out = SoftmaxFocalLoss(stats(COUNTS), gamma=gamma, detach_pt=detach)(a, label, avg_factor=10)
        ref = naive(b, label, gamma)
        out.backward()
        ref.backward()
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-7)


def test_the_two_forms_share_the_value_not_the_gradient():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    label = torch.tensor([1])
    grads = []
    for detach in (True, False):
        z = logits.clone().requires_grad_()
        SoftmaxFocalLoss(stats([3, 2, 1]), gamma=2.0, detach_pt=detach)(z, label).backward()
        grads.append(z.grad)
    # detached: (1 - p_t)^gamma times the CE gradient p - onehot
    p = torch.softmax(logits, 1)
    factor = (1 - p[0, 1]) ** 2
    torch.testing.assert_close(grads[0], factor * (p - F.one_hot(label, 3).float()))
    assert not torch.allclose(grads[0], grads[1])


def test_reductions_weights_and_soft_labels():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(6, len(COUNTS), generator=g)
    label = torch.tensor([0, 1, 2, 3, 3, 0])
    loss = SoftmaxFocalLoss(stats(COUNTS), gamma=3.0)
    per_sample = loss(logits, label, reduction_override='none')
    assert per_sample.shape == (6,)
    torch.testing.assert_close(loss(logits, label, reduction_override='sum'), per_sample.sum())
    torch.testing.assert_close(loss(logits, label, avg_factor=6), per_sample.mean())
    weight = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0, 1.0])
    torch.testing.assert_close(loss(logits, label, weight=weight, avg_factor=6), (per_sample * weight).sum() / 6)
    onehot = F.one_hot(label, len(COUNTS)).float()
    torch.testing.assert_close(loss(logits, onehot, avg_factor=6), loss(logits, label, avg_factor=6))
    soft = 0.6 * onehot + 0.4 * onehot.roll(1, dims=0)
    p = torch.softmax(logits, 1)
    expected = -(soft * (1 - p) ** 3 * torch.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(loss(logits, soft, avg_factor=6), expected)


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='gamma must be >= 0, got -1'):
        SoftmaxFocalLoss(stats(COUNTS), gamma=-1)
    with pytest.raises(ValueError, match='num_classes=3'):
        SoftmaxFocalLoss(stats(COUNTS), num_classes=3)
    with pytest.raises(ValueError, match=r'shape \(2, 3\)'):
        SoftmaxFocalLoss(stats(COUNTS))(torch.zeros(2, 3), torch.tensor([0, 1]))
    assert dict(SoftmaxFocalLoss(stats(COUNTS)).state_dict()) == {}  # nothing to checkpoint


def test_half_precision_logits_give_the_float32_loss():
    logits = torch.randn(8, len(COUNTS), generator=torch.Generator().manual_seed(5)) * 4
    label = torch.arange(8) % len(COUNTS)
    loss = SoftmaxFocalLoss(stats(COUNTS))
    out = loss(logits.half(), label)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, loss(logits.half().float(), label))


@pytest.mark.slow
def test_digits_lt_config_trains(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    config = str(REPO / 'configs/focal/focal_lenet_1xb32_digits-lt_30e.py')
    loss, metrics, runner = train_two_iterations(config, tmp_path)
    assert math.isfinite(loss) and loss > 0
    module = runner.model.head.loss_module
    assert type(module).__name__ == 'SoftmaxFocalLoss' and (module.gamma, module.detach_pt) == (3.0, True)
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
