"""Classifier heads: CosineClsHead, TauNormClsHead, LWSClsHead, LogitAdjustedClsHead, MultiExpertClsHead."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.heads.cosine_cls_head import cosine_logits
from ltmm.cls.heads.tau_norm_cls_head import tau_normalize

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

def ride_head(num_classes=2, **kw):
    cfg = dict(type='MultiExpertClsHead', num_classes=num_classes, in_channels=4, num_experts=3,
               loss=dict(type='RIDELoss', class_stats=stats(COUNTS if num_classes == 2 else [9] * num_classes)))
    cfg.update(kw)
    return build(**cfg)


def test_multi_expert_forward_is_mean_of_experts():
    torch.manual_seed(0)
    head = ride_head()
    x = (torch.randn(5, 3 * 4),)
    experts = head.forward_experts(x)
    assert experts.shape == (5, 3, 2)
    assert experts.abs().max() <= 30.0 + 1e-4
    torch.testing.assert_close(head(x), experts.mean(dim=1))
    # expert k classifies its own slice of the concatenated backbone features
    for k, fc in enumerate(head.classifiers):
        torch.testing.assert_close(experts[:, k], cosine_logits(x[0][:, 4 * k:4 * k + 4], fc.weight, 30.0))
    pred = head.predict(x)
    assert [int(p.pred_label) for p in pred] == head(x).argmax(dim=1).tolist()


def test_multi_expert_hand_computed():
    head = ride_head(num_experts=2, in_channels=2, scale=2.0)
    with torch.no_grad():
        head.classifiers[0].weight.copy_(torch.tensor([[1.0, 0], [0, 1.0]]))
        head.classifiers[1].weight.copy_(torch.tensor([[0, 1.0], [1.0, 0]]))
    x = (torch.tensor([[3.0, 4.0, 0.0, 5.0]]),)  # expert 0 sees (3, 4), expert 1 sees (0, 5)
    torch.testing.assert_close(head.forward_experts(x), torch.tensor([[[1.2, 1.6], [2.0, 0.0]]]))
    torch.testing.assert_close(head(x), torch.tensor([[1.6, 0.8]]))


def test_multi_expert_loss_passes_expert_logits_and_backprops():
    torch.manual_seed(0)
    head = ride_head(cal_acc=True)
    x = torch.randn(6, 12, requires_grad=True)
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
        head.loss((torch.randn(2, 12),), soft)
    with pytest.raises(ValueError, match=r'\(N, 3 \* 4\).*got \(2, 4\)'):
        head((torch.randn(2, 4),))  # a single-expert backbone
    with pytest.raises(ValueError, match='num_experts'):
        ride_head(num_experts=0)


# ---------------------------------------------------------------- RIDE router (stage 2)

def naive_routing(head, x, logits):
    """The official test-time loop (EAResNet ``forward`` without target): sample subsets shrink as the router
    declines, the output is the running sum over the used experts divided by their number."""
    n, k_total = logits.shape[:2]
    output = logits[:, 0].clone()
    used = torch.ones(n)
    expert_next = torch.ones(n, dtype=torch.bool)
    for i in range(1, k_total):
        idx = expert_next.nonzero().squeeze(1)
        decision = head.router(x[idx, i - 1], output[idx] / i, i - 1)
        keep = torch.sigmoid(decision) > 0.5
        expert_next = torch.zeros(n, dtype=torch.bool)
        expert_next[idx[keep]] = True
        if not expert_next.any():
            break
        output[expert_next] += logits[expert_next, i]
        used[expert_next] += 1
    return output / used[:, None], used


def test_router_routing_matches_the_official_loop():
    torch.manual_seed(0)
    head = ride_head(num_classes=5, in_channels=4, router=dict(top_k=3, hidden_channels=6))
    x = torch.randn(64, 12)
    with torch.no_grad():
        head.router.fc.bias.fill_(0.0)
    logits, used = head.route((x,))
    expected_logits, expected_used = naive_routing(head, x.view(64, 3, 4), head.forward_experts((x,)))
    torch.testing.assert_close(logits, expected_logits)
    torch.testing.assert_close(used, expected_used)
    assert set(used.tolist()) == {1.0, 2.0, 3.0}, 'the case should stop samples after 1, 2 and 3 experts'
    torch.testing.assert_close(head((x,)), logits)
    predictions = head.predict((x,))
    assert [p.num_experts for p in predictions] == used.long().tolist()
    assert [int(p.pred_label) for p in predictions] == logits.argmax(dim=1).tolist()
    with torch.no_grad():
        head.router.fc.bias.fill_(100.0)  # always consult the next expert: the plain mean
    torch.testing.assert_close(head((x,)), head.forward_experts((x,)).mean(dim=1))
    with torch.no_grad():
        head.router.fc.bias.fill_(-100.0)  # never: expert 0 alone
    torch.testing.assert_close(head((x,)), head.forward_experts((x,))[:, 0])


def test_router_input_is_normalised_feature_and_top_k_mean_logits():
    head = ride_head(num_classes=3, in_channels=2, router=dict(top_k=2, hidden_channels=1))
    with torch.no_grad():
        head.router.hidden[0].weight.copy_(torch.tensor([[1.0, 0.0]]))
        head.router.hidden[0].bias.zero_()
        head.router.fc.weight.copy_(torch.tensor([[1.0, 10.0, 100.0]]))  # [top1, top2, hidden]
        head.router.fc.bias.fill_(0.5)
    feats = torch.tensor([[3.0, 4.0]])
    mean_logits = torch.tensor([[2.0, -1.0, 5.0]])
    # top-2 = (5, 2); hidden = relu(3 / 5) = 0.6 -> 5 + 20 + 60 + 0.5
    torch.testing.assert_close(head.router(feats, mean_logits, 0), torch.tensor([85.5]))


def test_router_loss_targets_and_value():
    head = ride_head(num_classes=2, in_channels=2, router=dict(top_k=2, pos_weight=100.0))
    with torch.no_grad():  # expert k's classifier: class 0 along e1, class 1 along e2 (cosine x 30)
        for fc in head.classifiers:
            fc.weight.copy_(torch.eye(2))
    # sample 0: expert 0 says 1 (wrong), experts 1 and 2 say 0 -> the cumulative sum is right from 2 experts on
    # sample 1: all say 0 (right)          sample 2: all say 1 (wrong for label 0, never fixed)
    e0, e1, mostly_e1 = [1.0, 0.0], [0.0, 1.0], [0.1, 1.0]  # mostly_e1 + e0: class 0 by 2.985 - 0 + 30 - 29.85
    x = torch.tensor([mostly_e1 + e0 + e0, e0 + e0 + e0, e1 + e1 + e1])
    target = torch.tensor([0, 0, 0])
    losses = head.loss((x,), samples(target.tolist()))
    assert set(losses) == {'loss_router', 'num_experts_used'}
    feats = x.view(3, 3, 2)
    cumulative = head.forward_experts((x,)).cumsum(dim=1)
    helps = [torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.0])]  # hand-derived targets
    expected = 0.0
    for k in range(2):
        p = torch.sigmoid(head.router(feats[:, k], cumulative[:, k] / (k + 1), k))
        expected = expected - (100.0 * helps[k] * torch.log(p) + (1 - helps[k]) * torch.log(1 - p)).mean()
    torch.testing.assert_close(losses['loss_router'], expected / 2)
    losses['loss_router'].backward()
    assert all(p.grad is not None for p in head.router.parameters())


def test_router_errors():
    with pytest.raises(ValueError, match='top_k'):
        ride_head(router=dict(top_k=3))  # only 2 classes
    with pytest.raises(ValueError, match='num_experts >= 2'):
        ride_head(num_experts=1, router=dict(top_k=1))
