"""Classifier heads: CosineClsHead, TauNormClsHead, LWSClsHead, LogitAdjustedClsHead, MultiExpertClsHead."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm  # noqa: F401
from ltmm.models.heads.cosine_cls_head import cosine_logits
from ltmm.models.heads.tau_norm_cls_head import tau_normalize

COUNTS = [8, 2]


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def build(**cfg):
    return MODELS.build(cfg)


# ---------------------------------------------------------------- CosineClsHead

def test_cosine_hand_computed():
    head = build(type='CosineClsHead', num_classes=2, in_channels=2, scale=30.0)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    out = head((torch.tensor([[3.0, 4.0]]),))
    torch.testing.assert_close(out, torch.tensor([[30 * 0.6, 30 * 0.8]]))


def test_cosine_init_unit_rows_and_range():
    head = build(type='CosineClsHead', num_classes=7, in_channels=5, scale=16.0)
    torch.testing.assert_close(head.fc.weight.norm(dim=1), torch.ones(7))
    out = head((torch.randn(4, 5) * 100,))
    assert out.abs().max() <= 16.0 + 1e-4
    assert head.fc.bias is None


def test_cosine_gradients_match_naive_reference():
    torch.manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)

    def naive(x, w):
        return 7.0 * torch.stack([torch.stack([(xi @ wj) / (xi.norm() * wj.norm()) for wj in w]) for xi in x])

    gx, gw = torch.autograd.grad(cosine_logits(x, w, 7.0).pow(2).sum(), (x, w))
    rx, rw = torch.autograd.grad(naive(x, w).pow(2).sum(), (x, w))
    torch.testing.assert_close(gx, rx)
    torch.testing.assert_close(gw, rw)
    assert torch.autograd.gradcheck(lambda a, b: cosine_logits(a, b, 7.0), (x, w))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_cosine_low_precision(dtype):
    head = build(type='CosineClsHead', num_classes=3, in_channels=8)
    x = torch.randn(4, 8)
    ref = head((x,))
    out = head.to(dtype)((x.to(dtype),))
    assert out.dtype == dtype and torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), ref, atol=0.3, rtol=0.02)


def test_cosine_bad_args():
    with pytest.raises(ValueError, match='scale'):
        build(type='CosineClsHead', num_classes=3, in_channels=8, scale=0)
    with pytest.raises(ValueError, match='num_classes'):
        build(type='CosineClsHead', num_classes=0, in_channels=8)


# ---------------------------------------------------------------- TauNormClsHead

def test_tau_normalize_hand_computed():
    w = torch.tensor([[3.0, 4.0], [0.0, 0.5]])
    torch.testing.assert_close(tau_normalize(w, 0.0), w)
    torch.testing.assert_close(tau_normalize(w, 1.0), torch.tensor([[0.6, 0.8], [0.0, 1.0]]))
    torch.testing.assert_close(tau_normalize(w, 0.5), torch.tensor([[3 / math.sqrt(5), 4 / math.sqrt(5)],
                                                                    [0.0, 0.5 / math.sqrt(0.5)]]))
    zero = tau_normalize(torch.zeros(2, 3), 1.0)
    assert torch.equal(zero, torch.zeros(2, 3))


def test_tau_norm_head_predict_drops_bias_and_loss_uses_it():
    head = build(type='TauNormClsHead', num_classes=2, in_channels=2, tau=1.0)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[3.0, 4.0], [0.0, 0.5]]))
        head.fc.bias.copy_(torch.tensor([0.0, 100.0]))
    x = torch.tensor([[1.0, 1.0]])
    # training logits include the bias: class 1 wins
    torch.testing.assert_close(head((x,)), torch.tensor([[7.0, 100.5]]))
    # predictions: unit-norm rows, no bias: 1.4 vs 1.0, class 0 wins
    torch.testing.assert_close(head.predict_logits((x,)), torch.tensor([[1.4, 1.0]]))
    pred = head.predict((x,))[0]
    assert int(pred.pred_label) == 0
    torch.testing.assert_close(pred.pred_score, F.softmax(torch.tensor([1.4, 1.0]), dim=0))
    # tau = 0: raw weights, still no bias: 7.0 vs 0.5
    torch.testing.assert_close(head.predict_logits((x,), tau=0.0), torch.tensor([[7.0, 0.5]]))


def test_tau_norm_head_loads_linear_checkpoint():
    linear = LinearClsHead(num_classes=4, in_channels=6)
    head = build(type='TauNormClsHead', num_classes=4, in_channels=6, tau=0.7)
    head.load_state_dict(linear.state_dict())  # strict: same keys
    x = torch.randn(3, 6)
    torch.testing.assert_close(head((x,)), linear((x,)))
    with pytest.raises(ValueError, match='tau'):
        build(type='TauNormClsHead', num_classes=4, in_channels=6, tau=-1)


# ---------------------------------------------------------------- LWSClsHead

def test_lws_forward_and_only_scales_learn():
    head = build(type='LWSClsHead', num_classes=3, in_channels=2)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        head.fc.bias.copy_(torch.tensor([0.5, -1.0, 0.0]))
        head.scales.copy_(torch.tensor([2.0, 1.0, 0.5]))
    x = torch.tensor([[1.0, 2.0]])
    out = head((x,))
    torch.testing.assert_close(out, torch.tensor([[3.0, 1.0, 1.5]]))  # (1.5, 1.0, 3.0) * s
    out.sum().backward()
    torch.testing.assert_close(head.scales.grad, torch.tensor([1.5, 1.0, 3.0]))  # d/ds_j = w_j x + b_j
    assert head.fc.weight.grad is None and not head.fc.weight.requires_grad and not head.fc.bias.requires_grad
    assert [n for n, p in head.named_parameters() if p.requires_grad] == ['scales']


def test_lws_init_and_train_fc():
    head = build(type='LWSClsHead', num_classes=3, in_channels=2, train_fc=True)
    assert torch.equal(head.scales, torch.ones(3))
    assert head.fc.weight.requires_grad
    linear = LinearClsHead(num_classes=3, in_channels=2)
    missing, unexpected = head.load_state_dict(linear.state_dict(), strict=False)
    assert missing == ['scales'] and unexpected == []


# ---------------------------------------------------------------- LogitAdjustedClsHead

def test_logit_adjusted_posthoc_hand_computed():
    head = build(type='LogitAdjustedClsHead', num_classes=2, in_channels=2, class_stats=stats(COUNTS), tau=1.0)
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(2))
        head.fc.bias.zero_()
    x = torch.tensor([[1.0, 0.0]])  # raw logits (1, 0): the head class wins
    torch.testing.assert_close(head((x,)), torch.tensor([[1.0, 0.0]]))  # training logits are not adjusted
    adjusted = torch.tensor([[1.0 - math.log(0.8), -math.log(0.2)]])  # (1.223, 1.609): the tail class wins
    torch.testing.assert_close(head.predict_logits((x,)), adjusted)
    pred = head.predict((x,))[0]
    assert int(pred.pred_label) == 1
    torch.testing.assert_close(pred.pred_score, F.softmax(adjusted[0], dim=0))


def test_logit_adjusted_tau_zero_and_errors():
    head = build(type='LogitAdjustedClsHead', num_classes=2, in_channels=2, class_stats=stats(COUNTS), tau=0.0)
    x = torch.randn(5, 2)
    torch.testing.assert_close(head.predict_logits((x,)), head((x,)))
    with pytest.raises(ValueError, match='class index 1'):
        build(type='LogitAdjustedClsHead', num_classes=2, in_channels=2, class_stats=stats([3, 0]))
    with pytest.raises(ValueError, match='num_classes=3'):
        build(type='LogitAdjustedClsHead', num_classes=3, in_channels=2, class_stats=stats(COUNTS))


def test_logit_adjusted_class_with_one_image():
    head = build(type='LogitAdjustedClsHead', num_classes=3, in_channels=2, class_stats=stats([98, 1, 1]))
    expected = -torch.log(torch.tensor([0.98, 0.01, 0.01]))
    torch.testing.assert_close(head.predict_logits((torch.zeros(1, 2),)) - head((torch.zeros(1, 2),)),
                               expected[None])


# ---------------------------------------------------------------- MultiExpertClsHead

def ride_head(**kw):
    cfg = dict(type='MultiExpertClsHead', num_classes=2, in_channels=4, num_experts=3,
               loss=dict(type='RIDELoss', class_stats=stats(COUNTS)))
    cfg.update(kw)
    return build(**cfg)


def test_multi_expert_forward_is_mean_of_experts():
    torch.manual_seed(0)
    head = ride_head(expert_channels=6)
    x = (torch.randn(5, 4),)
    experts = head.forward_experts(x)
    assert experts.shape == (5, 3, 2)
    assert experts.abs().max() <= 30.0 + 1e-4
    torch.testing.assert_close(head(x), experts.mean(dim=1))
    # experts are distinct (own private blocks and classifiers)
    assert not torch.allclose(experts[:, 0], experts[:, 1])
    pred = head.predict(x)
    assert [int(p.pred_label) for p in pred] == head(x).argmax(dim=1).tolist()


def test_multi_expert_without_private_block_hand_computed():
    head = ride_head(expert_channels=None, num_experts=2, scale=2.0)
    with torch.no_grad():
        head.classifiers[0].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        head.classifiers[1].weight.copy_(torch.tensor([[0, 1.0, 0, 0], [1.0, 0, 0, 0]]))
    x = (torch.tensor([[3.0, 4.0, 0, 0]]),)
    torch.testing.assert_close(head.forward_experts(x), torch.tensor([[[1.2, 1.6], [1.6, 1.2]]]))
    torch.testing.assert_close(head(x), torch.tensor([[1.4, 1.4]]))


def test_multi_expert_loss_passes_expert_logits_and_backprops():
    torch.manual_seed(0)
    head = ride_head(expert_channels=6, cal_acc=True)
    x = torch.randn(6, 4, requires_grad=True)
    losses = head.loss((x,), samples([0, 1, 0, 1, 0, 0]))
    assert set(losses) == {'loss', 'accuracy_top-1'}
    expected = head.loss_module(head.forward_experts((x,)), torch.tensor([0, 1, 0, 1, 0, 0]))
    torch.testing.assert_close(losses['loss'], expected)
    losses['loss'].backward()
    assert all(p.grad is not None for p in head.classifiers.parameters())


def test_multi_expert_errors():
    with pytest.raises(TypeError, match='multi-expert loss'):
        build(type='MultiExpertClsHead', num_classes=2, in_channels=4, loss=dict(type='CrossEntropyLoss'))
    head = ride_head()
    soft = [DataSample().set_gt_score(torch.tensor([0.5, 0.5])) for _ in range(2)]
    with pytest.raises(ValueError, match='hard labels'):
        head.loss((torch.randn(2, 4),), soft)
    with pytest.raises(ValueError, match='num_experts'):
        ride_head(num_experts=0)
