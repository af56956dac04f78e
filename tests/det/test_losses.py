"""Detection losses (SigmoidCE, EQL v1, EQLv2, Federated, ROG ranking) and the mmdet bbox-head contract.

Every expected value is computed here independently of ltmm: by hand (with ``math``), or by a naive float64
re-implementation written from the papers / official code (research notes ``detection_losses.md`` sections 0-5):
elementwise BCE written out, explicit per-RoI weight loops, and ROG's GAP loss as the official double loop over
classes and positives.
"""
import json
import math
from typing import Dict, List, Sequence, Tuple

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import ltmm.det  # noqa: F401  (registers the modules, patches checkpoint loading)
from ltmm.det.losses import federated_loss as fed_module
from ltmm.det.losses.equalization_loss_v2 import eqlv2_weights
from ltmm.det.losses.federated_loss import federated_classes
from ltmm.det.losses.rog_ranking_loss import smooth_step_sums, weighted_smooth_steps

LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)


def build(cfg: dict) -> torch.nn.Module:
    return MODELS.build(cfg)


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 2e-6, atol: float = 1e-7) -> None:
    torch.testing.assert_close(actual.double(), expected.double(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------------------------
# naive float64 references
# ---------------------------------------------------------------------------------------------------------------
def bce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise BCE with logits, written out: -y log s(z) - (1-y) log(1 - s(z)) = max(z,0) - z y + log(1+e^-|z|)."""
    z = z.double()
    return z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))


def onehot(labels: Sequence[int], cols: int) -> torch.Tensor:
    """(N, cols) float64; a label >= cols gives an all-zero row."""
    y = torch.zeros(len(labels), cols, dtype=torch.float64)
    for i, label in enumerate(labels):
        if label < cols:
            y[i, label] = 1
    return y


def ref_sigmoid_ce(z: torch.Tensor, labels: List[int]) -> torch.Tensor:
    return bce(z, onehot(labels, z.size(1))).sum() / z.size(0)


def ref_eql(z: torch.Tensor, labels: List[int], tail: List[bool]) -> torch.Tensor:
    num_rois, num_classes = z.shape
    w = torch.ones(num_rois, num_classes, dtype=torch.float64)
    for i, label in enumerate(labels):
        for j in range(num_classes):
            if label != num_classes and tail[j] and label != j:
                w[i, j] = 0
    return (w * bce(z, onehot(labels, num_classes))).sum() / num_rois


def ref_eqlv2_weights(pos_neg: List[float], gamma: float = 12.0, mu: float = 0.8,
                      alpha: float = 4.0) -> Tuple[List[float], List[float]]:
    neg = [1 / (1 + math.exp(-gamma * (g - mu))) for g in pos_neg] + [1.0]
    pos = [1 + alpha * (1 - q) for q in neg]
    return pos, neg


def ref_eqlv2(z: torch.Tensor, labels: List[int], pos_neg: List[float]) -> Tuple[torch.Tensor, torch.Tensor,
                                                                                  torch.Tensor]:
    """Loss, and this batch's (pos, neg) gradient sums per class (objectness dropped)."""
    pos_w, neg_w = ref_eqlv2_weights(pos_neg)
    y = onehot(labels, z.size(1))
    w = torch.empty_like(y)
    for i in range(y.size(0)):
        for j in range(y.size(1)):
            w[i, j] = pos_w[j] if y[i, j] else neg_w[j]
    loss = (w * bce(z, y)).sum() / z.size(0)
    g = (torch.sigmoid(z.detach().double()) - y).abs() * w
    return loss, (g * y).sum(0)[:-1], (g * (1 - y)).sum(0)[:-1]


def ref_fed(z: torch.Tensor, labels: List[int], mask: torch.Tensor) -> torch.Tensor:
    num_classes = z.size(1) - 1
    return (mask.double() * bce(z[:, :num_classes], onehot(labels, num_classes))).sum() / z.size(0)


def H(x: float, delta: float) -> float:
    return min(max(x / (2 * delta) + 0.5, 0.0), 1.0)


def ref_gap(logits: torch.Tensor, labels: List[int], num_samples: Sequence[float], gamma: float = 1.0,
            lam: float = 0.1, delta: float = 0.5, eps: float = 1e-10) -> Tuple[float, torch.Tensor]:
    """EricZsy/ROG ``GAPLoss.forward`` as a plain Python loop (float64): value and hand-built gradient."""
    num_rois, num_classes = logits.shape
    z = logits.detach().double().reshape(-1).tolist()
    target = onehot(labels, num_classes).reshape(-1).tolist()
    w = [(1 / max(n, 1)) ** gamma for n in num_samples]
    w = [x / (sum(w) + 1e-9) * num_classes for x in w]
    classes = sorted({label for label in labels if label < num_classes})
    grad = [0.0] * len(z)
    total = 0.0
    for m in classes:
        pos = [i * num_classes + m for i, label in enumerate(labels) if label == m]
        threshold = min(z[p] for p in pos) - delta
        negs = [n for n in range(len(z)) if target[n] == 0 and z[n] >= threshold]
        pos_grad = {p: 0.0 for p in pos}
        neg_grad = {n: 0.0 for n in negs}
        errors = []
        for k in sorted(pos, key=lambda p: z[p]):
            rank_pos = sum(H(z[p] - z[k], delta) for p in pos)
            fp = sum(H(z[n] - z[k], delta) for n in negs)
            rank = rank_pos + fp
            errors.append(fp / rank)
            if fp > eps:
                pos_grad[k] -= 1 - rank_pos / rank
                for n in negs:
                    neg_grad[n] += H(z[n] - z[k], delta) / rank
        total += sum(errors) / len(errors) / len(classes)
        scale = w[m] / (len(pos) * len(classes)) * lam
        for p, g in pos_grad.items():
            grad[p] += g * scale
        for n, g in neg_grad.items():
            grad[n] += g * scale
    return total, torch.tensor(grad, dtype=torch.float64).view(num_rois, num_classes)


def loss_and_grad(module: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor,
                                                                                           torch.Tensor]:
    z = z.detach().clone().requires_grad_()
    loss = module(z, labels)
    loss.backward()
    return loss.detach(), z.grad


def ref_loss_and_grad(fn, z: torch.Tensor, *args) -> Tuple[torch.Tensor, torch.Tensor]:
    z64 = z.detach().double().requires_grad_()
    loss = fn(z64, *args)
    loss.backward()
    return loss.detach(), z64.grad


def stats(image_count: Sequence[int], num_images: int) -> dict:
    return dict(num_images=num_images, image_count=list(image_count), instance_count=list(image_count))


def random_labels(gen: torch.Generator, num_rois: int, num_classes: int) -> torch.Tensor:
    """Labels in 0..C with at least one foreground RoI and one background RoI."""
    labels = torch.randint(0, num_classes + 1, (num_rois,), generator=gen)
    labels[0], labels[-1] = 0, num_classes
    return labels


# ---------------------------------------------------------------------------------------------------------------
# 1. hand-computable cases
# ---------------------------------------------------------------------------------------------------------------
def test_eqlv2_weight_mapping_reference_values():
    pos_w, neg_w = eqlv2_weights(torch.tensor([0.0, 0.5, 0.8, 1.0], dtype=torch.float64), 12.0, 0.8, 4.0)
    assert pos_w.shape == neg_w.shape == (5,)
    # the research notes' table: g -> (neg_w, pos_w)
    for got, want in zip(neg_w[:4].tolist(), [7e-5, 0.027, 0.5, 0.917]):
        assert got == pytest.approx(want, rel=0.05)
    for got, want in zip(pos_w[:4].tolist(), [5.0, 4.89, 3.0, 1.33]):
        assert got == pytest.approx(want, abs=0.01)
    # exact: q = 1 / (1 + exp(-12 (g - 0.8))), pos = 1 + 4 (1 - q)
    q = [1 / (1 + math.exp(-12 * (g - 0.8))) for g in (0.0, 0.5, 0.8, 1.0)]
    close(neg_w[:4], torch.tensor(q))
    close(pos_w[:4], torch.tensor([1 + 4 * (1 - x) for x in q]))
    assert neg_w[4] == 1 and pos_w[4] == 1  # objectness column


def test_eqlv2_full_loss_by_hand():
    """3 RoIs, 2 classes (+ objectness). Logits are 0 or ln 3, so BCE terms are ln 2, ln(4/3) (y=1, z=ln3) or
    ln 4 (y=0, z=ln3); pos_neg = [0.8, 1.0] gives class 0 (neg 0.5, pos 3) and class 1 (neg q1, pos 1+4(1-q1))."""
    loss_cls = build(dict(type='EqualizationLossV2', num_classes=2))
    loss_cls.pos_neg.copy_(torch.tensor([0.8, 1.0], dtype=torch.float64))
    z = torch.tensor([[LN3, 0.0, 0.0],     # label 0: y = [1, 0, 0]
                      [LN3, LN3, 0.0],     # label 1: y = [0, 1, 0]
                      [0.0, LN3, LN3]])    # background: y = [0, 0, 1]
    labels = torch.tensor([0, 1, 2])
    q1 = 1 / (1 + math.exp(-12 * 0.2))
    p1 = 1 + 4 * (1 - q1)
    ln43 = math.log(4 / 3)
    row0 = 3 * ln43 + q1 * LN2 + 1 * LN2
    row1 = 0.5 * LN4 + p1 * ln43 + 1 * LN2
    row2 = 0.5 * LN2 + q1 * LN4 + 1 * ln43
    loss_cls.eval()
    assert loss_cls(z, labels).item() == pytest.approx((row0 + row1 + row2) / 3, rel=1e-6)

    # the same batch in training mode also accumulates |sigmoid(z) - y| * w (sigmoid(ln 3) = 3/4)
    loss_cls.train()
    loss_cls(z, labels)
    # class 0: positive RoI 0 (|3/4 - 1| * 3); negatives RoI 1 (3/4 * 0.5), RoI 2 (1/2 * 0.5)
    # class 1: positive RoI 1 (|3/4 - 1| * p1); negatives RoI 0 (1/2 * q1), RoI 2 (3/4 * q1)
    close(loss_cls.pos_grad, torch.tensor([0.75, 0.25 * p1]))
    close(loss_cls.neg_grad, torch.tensor([0.375 + 0.25, 1.25 * q1]))
    close(loss_cls.pos_neg, torch.tensor([0.75 / 0.625, 0.25 * p1 / (1.25 * q1)]))


def test_eqlv2_negative_gradient_sums_do_not_cancel_on_confident_batches():
    """Late in training positives are confident (sigmoid ~ 1) and negatives tiny: the negative sums must add the
    negatives only (as the official code), not all entries minus the positives, which cancels in float32."""
    from ltmm.det.losses.equalization_loss_v2 import eqlv2_gradient_sums

    num_rois, num_classes = 4096, 50
    labels = torch.arange(num_rois) % (num_classes + 1)  # background RoIs included
    logits = torch.full((num_rois, num_classes + 1), -14.0)
    fg = labels < num_classes
    logits[fg.nonzero().squeeze(1), labels[fg]] = 15.0
    logits += torch.linspace(0, 0.5, num_classes + 1)  # columns differ a little
    ones = torch.ones(num_classes + 1)
    pos, neg = eqlv2_gradient_sums(logits, labels, ones, ones)
    target = torch.nn.functional.one_hot(labels, num_classes + 1)[:, :num_classes].double()
    probs = torch.sigmoid(logits[:, :num_classes].double())
    torch.testing.assert_close(neg.double(), (probs * (1 - target)).sum(0), rtol=1e-5, atol=0)  # float32 sums
    torch.testing.assert_close(pos.double(), ((1 - probs) * target).sum(0), rtol=1e-5, atol=0)


def test_eqlv2_first_iteration_is_plain_sigmoid_ce():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(10, 5, generator=gen)
    labels = random_labels(gen, 10, 4)
    eqlv2 = build(dict(type='EqualizationLossV2', num_classes=4))
    ce = build(dict(type='SigmoidCELoss', num_classes=4))
    close(eqlv2(z, labels), ce(z, labels))


def test_sigmoid_ce_by_hand():
    loss_cls = build(dict(type='SigmoidCELoss', num_classes=2))
    z = torch.tensor([[LN3, 0.0, 0.0], [0.0, 0.0, LN3]])
    labels = torch.tensor([0, 2])
    # RoI 0: ln(4/3) + 2 ln 2; RoI 1 (background: positive in the objectness column): 2 ln 2 + ln(4/3)
    want = (2 * math.log(4 / 3) + 4 * LN2) / 2
    assert loss_cls(z, labels).item() == pytest.approx(want, rel=1e-6)
    assert build(dict(type='SigmoidCELoss', num_classes=2, loss_weight=2.5))(z, labels).item() == \
        pytest.approx(2.5 * want, rel=1e-6)


def test_eql_masking_pattern():
    # classes 0, 1 head; 2, 3 tail (f = 0.5, 0.2, 0.001, 0.002 < lambda_ = 0.01)
    loss_cls = build(dict(type='EqualizationLoss', num_classes=4, class_stats=stats([500, 200, 1, 2], 1000),
                          lambda_=0.01))
    labels = torch.tensor([0, 2, 4, 3])
    z = torch.randn(4, 4, generator=torch.Generator().manual_seed(15))
    _, grad = loss_and_grad(loss_cls, z, labels)
    kept = torch.tensor([[1, 1, 0, 0],   # head RoI: head negative kept, tail negatives masked
                         [1, 1, 1, 0],   # tail RoI: its own positive kept, the other tail negative masked
                         [1, 1, 1, 1],   # background RoI: all kept
                         [1, 1, 0, 1]]).bool()
    assert (grad[~kept].abs() < 1e-7).all(), grad
    # a kept term has the plain BCE gradient (sigmoid(z) - y) / N
    close(grad[kept], ((torch.sigmoid(z.double()) - onehot(labels.tolist(), 4)) / 4)[kept])


def test_eql_lambda_threshold_from_class_stats():
    # f = image_count / 10000: 0.5, 0.0011 (== lambda: not tail), 0.001, 0 (empty class: tail)
    loss_cls = build(dict(type='EqualizationLoss', num_classes=4, class_stats=stats([5000, 11, 10, 0], 10000),
                          lambda_=0.0011))
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 4])
    _, grad = loss_and_grad(loss_cls, z, labels)
    # foreground RoIs send no gradient to tail negatives (2 and 3), and do to head ones
    assert (grad[:2, 2:].abs() < 1e-7).all()
    assert (grad[:2, :2].abs() > 1e-3).all()
    assert (grad[2] != 0).all()
    loss, _ = loss_and_grad(loss_cls, z, labels)
    close(loss, ref_eql(z, labels.tolist(), [False, False, True, True]))


def lvis_json(path, image_ids: Sequence[int], anns: Sequence[Tuple[int, int]], num_cats: int) -> str:
    data = dict(images=[dict(id=i, file_name=f'{i}.jpg', height=8, width=8) for i in image_ids],
                annotations=[dict(id=k + 1, image_id=img, category_id=cat, bbox=[0, 0, 2, 2], area=4)
                             for k, (img, cat) in enumerate(anns)],
                categories=[dict(id=c + 1, name=f'c{c}', frequency='r') for c in range(num_cats)])
    path.write_text(json.dumps(data))
    return str(path)


def test_eql_frequency_counts_only_annotated_images(tmp_path):
    # 5 images, 3 annotated. cat1 in 3 images (f = 1), cat2 in 1 (f = 1/3, or 1/5 if unannotated images counted),
    # cat3 in none (f = 0)
    path = lvis_json(tmp_path / 'lvis.json', range(1, 6), [(1, 1), (2, 1), (3, 1), (3, 2), (3, 1)], 3)
    loss_cls = build(dict(type='EqualizationLoss', num_classes=3, class_stats=path, lambda_=0.3))
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 0])
    _, grad = loss_and_grad(loss_cls, z, labels)
    assert (grad[:, 1].abs() > 1e-3).all(), 'f(cat2) = 1/3 >= 0.3: not tail (num_images must count annotated images)'
    assert (grad[:, 2].abs() < 1e-7).all(), 'a class without images is tail'


def test_federated_classes_subset():
    num_classes = 10
    weight = torch.ones(num_classes)
    weight[5] = 0
    labels = torch.tensor([1, 1, 3, 10, 10])
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        got = federated_classes(labels, weight, 6, gen).tolist()
        assert len(got) == len(set(got)) == 6
        assert {1, 3, 10} <= set(got), 'the GT classes and the background index are always in'
        assert 5 not in got, 'a zero-weight class is never drawn'
        assert max(got) <= num_classes
    # not enough drawable classes: every present and every non-zero class, no more
    got = federated_classes(labels, weight, 50, torch.Generator().manual_seed(0)).tolist()
    assert sorted(got) == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    # more present classes than the budget: the present ones only
    got = federated_classes(torch.tensor([0, 2, 4, 6, 10]), weight, 3, torch.Generator().manual_seed(0))
    assert sorted(got.tolist()) == [0, 2, 4, 6, 10]


def test_federated_label_out_of_range_is_named():
    weight = torch.ones(4)
    with pytest.raises(ValueError, match=r'0\.\.4 .*got \[7\]'):
        federated_classes(torch.tensor([0, 4, 7]), weight, 6, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r'got \[-1\]'):
        federated_classes(torch.tensor([-1, 2]), weight, 6, torch.Generator().manual_seed(0))


def test_federated_default_size_is_min_50_available():
    gen = torch.Generator().manual_seed(3)
    big = build(dict(type='FederatedLoss', num_classes=80, class_stats=stats([5] * 80, 100)))
    assert big.num_sampled_classes == 50
    labels = torch.tensor([3, 7, 80, 80])
    subset = big.sample_classes(labels).tolist()
    assert len(subset) == len(set(subset)) == 50 and {3, 7, 80} <= set(subset)
    small = build(dict(type='FederatedLoss', num_classes=30, class_stats=stats([5] * 30, 100)))
    assert sorted(small.sample_classes(torch.tensor([3, 7, 30, 30])).tolist()) == list(range(31))
    z = torch.randn(4, 81, generator=gen)
    _, grad = loss_and_grad(big, z, labels)
    trained = set(torch.nonzero(grad[:, :80].abs().sum(0)).squeeze(1).tolist())
    assert len(trained) == 49 and {3, 7} <= trained, '49 foreground classes + the background index = 50'
    assert (grad[:, 80] == 0).all(), 'the background logit is not trained'


def test_federated_draw_frequencies_follow_image_count_power():
    # weights image_count ** 0.5 = [10, 5, 2, 1]: one class drawn per call when only background RoIs are present
    loss_cls = build(dict(type='FederatedLoss', num_classes=4, class_stats=stats([100, 25, 4, 1], 200),
                          num_sampled_classes=2))
    counts = torch.zeros(5)
    calls = 3000
    for _ in range(calls):
        subset = loss_cls.sample_classes(torch.tensor([4]))
        assert subset.numel() == 2
        counts[subset] += 1
    assert counts[4] == calls
    expected = torch.tensor([10, 5, 2, 1]) / 18 * calls
    sigma = (expected * (1 - expected / calls)).sqrt()
    assert ((counts[:4] - expected).abs() < 5 * sigma).all(), counts


def fed_masks(module: torch.nn.Module, labels: torch.Tensor, calls: int) -> List[List[int]]:
    return [sorted(module.sample_classes(labels).tolist()) for _ in range(calls)]


def test_federated_sampling_is_seeded_and_resumable(monkeypatch):
    cfg = dict(type='FederatedLoss', num_classes=40, class_stats=stats(range(1, 41), 100), num_sampled_classes=6)
    labels = torch.tensor([2, 40])
    first = fed_masks(build(cfg), labels, 5)
    assert first == fed_masks(build(cfg), labels, 5), 'same seed, same draws'
    assert len({tuple(m) for m in first}) > 1, 'each call draws anew'
    assert first != fed_masks(build({**cfg, 'seed': 1}), labels, 5), 'another seed, other draws'
    with monkeypatch.context() as patch:
        patch.setattr(fed_module.dist, 'get_rank', lambda *args, **kwargs: 1)
        assert first != fed_masks(build(cfg), labels, 5), 'another rank, other draws'

    # resume: 3 calls, state_dict into a fresh module, which continues with draws 4 and 5
    module = build(cfg)
    fed_masks(module, labels, 3)
    state = module.state_dict()
    assert int(state['num_calls']) == 3
    fresh = build(cfg)
    fresh.load_state_dict(state)
    assert fed_masks(fresh, labels, 2) == first[3:]


def test_federated_loss_is_masked_bce():
    gen = torch.Generator().manual_seed(4)
    cfg = dict(type='FederatedLoss', num_classes=12, class_stats=stats(range(1, 13), 50), num_sampled_classes=5)
    z = torch.randn(7, 13, generator=gen)
    labels = torch.tensor([1, 1, 12, 12, 4, 12, 1])
    subset = build(cfg).sample_classes(labels)   # the draw the first call of a fresh module makes
    mask = torch.zeros(12)
    mask[subset[subset < 12]] = 1
    assert int(mask.sum()) == 4
    loss, grad = loss_and_grad(build(cfg), z, labels)
    ref_loss, ref_grad = ref_loss_and_grad(ref_fed, z, labels.tolist(), mask)
    close(loss, ref_loss)
    close(grad, ref_grad)
    assert (grad[:, :12][:, mask == 0] == 0).all() and (grad[:, 12] == 0).all()


# ---------------------------------------------------------------------------------------------------------------
# 2. gradients against autograd of the naive references
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('scale', [0.3, 3.0, 20.0])
def test_sigmoid_ce_eql_eqlv2_grad_vs_reference(scale):
    gen = torch.Generator().manual_seed(int(scale * 10))
    num_classes = 6
    labels = random_labels(gen, 20, num_classes)
    z = torch.randn(20, num_classes + 1, generator=gen) * scale

    loss, grad = loss_and_grad(build(dict(type='SigmoidCELoss', num_classes=num_classes)), z, labels)
    ref = ref_loss_and_grad(ref_sigmoid_ce, z, labels.tolist())
    close(loss, ref[0])
    close(grad, ref[1])

    tail = [False, True, False, True, True, False]
    eql = build(dict(type='EqualizationLoss', num_classes=num_classes, lambda_=0.01,
                     class_stats=stats([500, 3, 100, 0, 9, 20], 1000)))
    loss, grad = loss_and_grad(eql, z[:, :num_classes], labels)
    ref = ref_loss_and_grad(ref_eql, z[:, :num_classes], labels.tolist(), tail)
    close(loss, ref[0])
    close(grad, ref[1])

    eqlv2 = build(dict(type='EqualizationLossV2', num_classes=num_classes))
    pos_neg = [0.0, 0.3, 0.75, 0.8, 1.1, 100.0]
    eqlv2.pos_neg.copy_(torch.tensor(pos_neg))
    loss, grad = loss_and_grad(eqlv2.eval(), z, labels)
    ref = ref_loss_and_grad(lambda x: ref_eqlv2(x, labels.tolist(), pos_neg)[0], z)
    close(loss, ref[0])
    close(grad, ref[1])


def rog_case(name: str, gen: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    num_classes = 1 if name in ('single_class', 'no_negatives') else 5
    labels = random_labels(gen, 14, num_classes)
    z = torch.randn(14, num_classes, generator=gen)
    if name == 'wide':
        z = z * 6
    elif name == 'narrow':
        z = z * 0.05
    elif name == 'ties':  # multiples of 1/4: many ties, and values exactly on the breakpoints q -+ 0.5
        z = torch.randint(-6, 7, z.shape, generator=gen) / 4
    elif name == 'band_edges':  # every positive at 0, negatives at and around -+ delta
        z = torch.tensor([-0.5, 0.5, -0.5 - 1e-3, 0.5 + 1e-3, 0.0, 1.0])[torch.randint(0, 6, z.shape, generator=gen)]
        z[labels < num_classes, labels[labels < num_classes]] = 0.0
    elif name == 'one_positive':
        labels = torch.full((14,), num_classes)
        labels[3] = 2
    elif name == 'no_negatives':  # one class, every RoI a positive: FP = 0 everywhere
        labels = torch.zeros(14, dtype=torch.long)
    return z, labels


ROG_CASES = ['wide', 'normal', 'narrow', 'ties', 'band_edges', 'single_class', 'one_positive', 'no_negatives']


@pytest.mark.parametrize('name', ROG_CASES)
def test_rog_value_and_gradient_vs_official_loop(name):
    gen = torch.Generator().manual_seed(ROG_CASES.index(name))
    z, labels = rog_case(name, gen)
    num_classes = z.size(1)
    cfgs = [dict(), dict(gamma=0.5, lam=1.0, delta=0.25)]
    for cfg in cfgs:
        module = build(dict(type='ROGRankingLoss', num_classes=num_classes, **cfg))
        prior = torch.randint(0, 50, (num_classes + 1,), generator=gen).double()
        module.num_samples.copy_(prior)
        # a ranking loss sits beside loss_cls, on the first C of wider logits (here C+1)
        wide = torch.cat([z, torch.randn(z.size(0), 1, generator=gen)], dim=1)
        loss, grad = loss_and_grad(module, wide, labels)
        counts = prior + torch.bincount(labels, minlength=num_classes + 1).double()
        close(module.num_samples, counts)
        ref_value, ref_grad = ref_gap(z, labels.tolist(), counts[:num_classes].tolist(), **cfg)
        assert loss.item() == pytest.approx(ref_value, rel=1e-6, abs=1e-7)
        close(grad[:, :num_classes], ref_grad, rtol=1e-6, atol=1e-8)
        assert (grad[:, num_classes:] == 0).all()
        assert grad.abs().sum() > 0 or ref_grad.abs().sum() == 0


def test_rog_value_exact_at_large_logit_scale():
    """The value is the ranking error to float32 precision, whatever the logit scale (the gradient path adds no
    rounding to it)."""
    gen = torch.Generator().manual_seed(13)
    labels = torch.randint(0, 6, (64,), generator=gen)
    labels[0] = 0
    z = torch.randn(64, 5, generator=gen) * 3e4
    module = build(dict(type='ROGRankingLoss', num_classes=5)).eval()
    module.num_samples.fill_(1)
    loss, _ = loss_and_grad(module, z, labels)
    ref_value, _ = ref_gap(z, labels.tolist(), [1.0] * 5)
    assert loss.item() == pytest.approx(ref_value, rel=1e-6)


def test_rog_backward_scales_with_upstream_gradient():
    gen = torch.Generator().manual_seed(11)
    z, labels = rog_case('normal', gen)
    module = build(dict(type='ROGRankingLoss', num_classes=5)).eval()
    _, grad = loss_and_grad(module, z, labels)
    z2 = z.clone().requires_grad_()
    (module(z2, labels) * 3).backward()
    close(z2.grad, 3 * grad)
    weighted = build(dict(type='ROGRankingLoss', num_classes=5, loss_weight=2.0)).eval()
    value2, grad2 = loss_and_grad(weighted, z, labels)
    close(value2, 2 * module(z, labels).detach())
    close(grad2, 2 * grad)


def test_smooth_step_sums_vs_dense():
    gen = torch.Generator().manual_seed(5)
    for delta in (0.5, 0.1, 2.0):
        values = torch.cat([torch.randn(200, generator=gen, dtype=torch.float64) * 2,
                            torch.randint(-8, 9, (100,), generator=gen).double() / 4])
        queries = torch.cat([torch.randn(15, generator=gen, dtype=torch.float64),
                             torch.tensor([0.0, 0.0, 0.5, -0.25], dtype=torch.float64)])
        values = torch.cat([values, queries + delta, queries - delta, queries])  # exactly on the breakpoints
        step = ((values[:, None] - queries[None, :]) / (2 * delta) + 0.5).clamp(0, 1)
        close(smooth_step_sums(values, queries, delta), step.sum(0), rtol=1e-12, atol=1e-10)
        weight = torch.rand(queries.numel(), generator=gen, dtype=torch.float64)
        close(weighted_smooth_steps(values, queries, weight, delta), (step * weight).sum(1), rtol=1e-12, atol=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# 3. statistics over several iterations
# ---------------------------------------------------------------------------------------------------------------
def test_eqlv2_statistics_accumulate_over_iterations():
    gen = torch.Generator().manual_seed(6)
    num_classes = 4
    loss_cls = build(dict(type='EqualizationLossV2', num_classes=num_classes))
    pos_sum = torch.zeros(num_classes, dtype=torch.float64)
    neg_sum = torch.zeros(num_classes, dtype=torch.float64)
    pos_neg = [100.0] * num_classes
    for _ in range(3):
        labels = random_labels(gen, 12, num_classes)
        z = torch.randn(12, num_classes + 1, generator=gen) * 2
        loss, grad = loss_and_grad(loss_cls, z, labels)
        # weights of iteration t come from the statistics up to t - 1
        ref_loss, ref_grad = ref_loss_and_grad(lambda x: ref_eqlv2(x, labels.tolist(), pos_neg)[0], z)
        close(loss, ref_loss)
        close(grad, ref_grad)
        _, pos, neg = ref_eqlv2(z, labels.tolist(), pos_neg)
        pos_sum += pos
        neg_sum += neg
        pos_neg = (pos_sum / (neg_sum + 1e-10)).tolist()
        close(loss_cls.pos_grad, pos_sum, rtol=1e-6)
        close(loss_cls.neg_grad, neg_sum, rtol=1e-6)
        close(loss_cls.pos_neg, torch.tensor(pos_neg), rtol=1e-6)
    assert loss_cls.pos_grad.dtype == loss_cls.neg_grad.dtype == loss_cls.pos_neg.dtype == torch.float64
    assert pos_neg != [100.0] * num_classes

    before = {k: v.clone() for k, v in loss_cls.state_dict().items()}
    loss_cls.eval()
    loss_cls(torch.randn(5, num_classes + 1), torch.tensor([0, 1, 2, 3, 4]))
    for k, v in loss_cls.state_dict().items():
        assert torch.equal(v, before[k]), f'{k} changed in eval mode'


def test_rog_num_samples_accumulate_in_training_only():
    module = build(dict(type='ROGRankingLoss', num_classes=3))
    batches = [torch.tensor([0, 3, 3, 1]), torch.tensor([3, 3, 3]), torch.tensor([2, 0, 0, 3])]
    for labels in batches:
        module(torch.randn(labels.numel(), 4), labels)
    close(module.num_samples, torch.tensor([3., 1., 1., 6.]))
    assert module.num_samples.dtype == torch.float64 and module.num_samples.numel() == 4
    module.eval()
    module(torch.randn(2, 4), torch.tensor([1, 1]))
    close(module.num_samples, torch.tensor([3., 1., 1., 6.]))


# ---------------------------------------------------------------------------------------------------------------
# 4. edge cases
# ---------------------------------------------------------------------------------------------------------------
def det_losses(num_classes: int) -> Dict[str, dict]:
    class_stats = stats([50] + [3] * (num_classes - 1), 100)
    return {
        'SigmoidCELoss': dict(type='SigmoidCELoss', num_classes=num_classes),
        'EqualizationLoss': dict(type='EqualizationLoss', num_classes=num_classes, class_stats=class_stats,
                                 lambda_=0.05),
        'EqualizationLossV2': dict(type='EqualizationLossV2', num_classes=num_classes),
        'FederatedLoss': dict(type='FederatedLoss', num_classes=num_classes, class_stats=class_stats,
                              num_sampled_classes=3),
    }


def channels(cfg: dict) -> int:
    return cfg['num_classes'] + (0 if cfg['type'] == 'EqualizationLoss' else 1)


@pytest.mark.parametrize('name', sorted(det_losses(3)))
def test_background_only_batch(name):
    cfg = det_losses(3)[name]
    z = torch.randn(6, channels(cfg), generator=torch.Generator().manual_seed(7))
    labels = torch.full((6,), 3)
    loss, grad = loss_and_grad(build(cfg), z, labels)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # every term is a negative of a foreground class (plus the objectness positive where there is one)
    if name == 'SigmoidCELoss' or name == 'EqualizationLossV2':
        ref = ref_sigmoid_ce(z, labels.tolist())  # EQLv2 on its first iteration: weights 1
    elif name == 'EqualizationLoss':
        ref = ref_eql(z, labels.tolist(), [False, True, True])
    else:
        mask = (grad.abs().sum(0)[:3] > 0).double()
        assert mask.sum() == 2, 'background + 2 drawn classes'
        ref = ref_fed(z, labels.tolist(), mask)
    close(loss, ref)


@pytest.mark.parametrize('name', sorted(det_losses(3)) + ['ROGRankingLoss'])
def test_empty_batch(name):
    cfg = det_losses(3).get(name, dict(type='ROGRankingLoss', num_classes=3))
    module = build(cfg)
    loss, grad = loss_and_grad(module, torch.zeros(0, channels(cfg)), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0 and grad.shape == (0, channels(cfg))
    for buf_name, buf in module.named_buffers():
        assert torch.isfinite(buf.double()).all(), buf_name


def test_rog_background_only_is_zero():
    module = build(dict(type='ROGRankingLoss', num_classes=3))
    loss, grad = loss_and_grad(module, torch.randn(5, 4), torch.full((5,), 3))
    assert loss.item() == 0 and torch.isfinite(loss)
    assert (grad == 0).all()
    close(module.num_samples, torch.tensor([0., 0., 0., 5.]))


def test_eqlv2_never_seen_class():
    loss_cls = build(dict(type='EqualizationLossV2', num_classes=3))
    gen = torch.Generator().manual_seed(8)
    loss_cls(torch.randn(6, 4, generator=gen), torch.full((6,), 3))
    assert (loss_cls.pos_grad == 0).all() and (loss_cls.neg_grad > 0).all()
    assert (loss_cls.pos_neg == 0).all()
    # class 2 never positive, classes 0 and 1 seen
    loss_cls(torch.randn(6, 4, generator=gen), torch.tensor([0, 1, 0, 3, 3, 3]))
    assert loss_cls.pos_neg[2] == 0 and (loss_cls.pos_neg[:2] > 0).all()
    pos_w, neg_w = eqlv2_weights(loss_cls.pos_neg, 12.0, 0.8, 4.0)
    assert neg_w[2].item() == pytest.approx(1 / (1 + math.exp(9.6)), rel=1e-5)   # ~ 6.8e-5
    assert pos_w[2].item() == pytest.approx(5 - 4 / (1 + math.exp(9.6)), rel=1e-6)  # ~ 5


def test_zero_count_class():
    class_stats = stats([80, 0, 30, 20, 10], 100)
    eql = build(dict(type='EqualizationLoss', num_classes=5, class_stats=class_stats, lambda_=1e-9))
    _, grad = loss_and_grad(eql, torch.randn(2, 5, generator=torch.Generator().manual_seed(16)), torch.tensor([0, 2]))
    assert (grad[:, 1].abs() < 1e-7).all(), 'the empty class is tail'
    assert (grad[:, [0, 2, 3, 4]].abs() > 1e-3).all(), 'only the empty class is tail'
    fed = build(dict(type='FederatedLoss', num_classes=5, class_stats=class_stats, num_sampled_classes=3))
    drawn = set()
    for _ in range(60):
        drawn.update(fed.sample_classes(torch.tensor([5])).tolist())
    assert drawn == {0, 2, 3, 4, 5}, 'every non-empty class drawn at some point, the empty one never'


@pytest.mark.parametrize('name', sorted(det_losses(3)))
def test_num_classes_mismatch_and_reduction_override(name):
    cfg = det_losses(3)[name]
    loss_cls = build(cfg)
    assert loss_cls.get_cls_channels(3) == channels(cfg)
    with pytest.raises(ValueError, match='num_classes=4'):
        loss_cls.get_cls_channels(4)
    with pytest.raises(ValueError, match='num_classes'):
        build_head(cfg, num_classes=4)
    z = torch.randn(4, channels(cfg))
    labels = torch.tensor([0, 1, 3, 3])
    with pytest.raises(ValueError, match='none'):
        loss_cls(z, labels, reduction_override='none')
    assert torch.isfinite(loss_cls(z, labels, reduction_override='mean'))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='4 classes but num_classes=3'):
        build(dict(type='EqualizationLoss', num_classes=3, class_stats=stats([1, 2, 3, 4], 10)))
    with pytest.raises(ValueError, match='4 classes but num_classes=3'):
        build(dict(type='FederatedLoss', num_classes=3, class_stats=stats([1, 2, 3, 4], 10)))
    with pytest.raises(ValueError, match='num_sampled_classes'):
        build(dict(type='FederatedLoss', num_classes=3, class_stats=stats([1, 2, 3], 10), num_sampled_classes=0))
    with pytest.raises(ValueError, match='num_classes'):
        build(dict(type='EqualizationLossV2', num_classes=0))


def test_rog_head_num_classes_mismatch():
    with pytest.raises(ValueError, match='num_classes'):
        build_head(dict(type='SigmoidCELoss', num_classes=3), head='ROGShared2FCBBoxHead',
                   loss_rank=dict(type='ROGRankingLoss', num_classes=5))
    with pytest.raises(ValueError, match='delta'):
        build(dict(type='ROGRankingLoss', num_classes=3, delta=0.0))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_inputs(dtype):
    gen = torch.Generator().manual_seed(9)
    labels = torch.tensor([0, 1, 2, 3, 3, 1])
    cfgs = [*det_losses(3).values(), dict(type='ROGRankingLoss', num_classes=3)]
    for cfg in cfgs:
        width = channels(cfg) if cfg['type'] != 'ROGRankingLoss' else 4
        z = torch.randn(6, width, generator=gen) * 4
        z[0, 0] = 300.0  # saturates float16 exp
        z = z.to(dtype).requires_grad_()
        loss = build(cfg)(z, labels)
        assert loss.dtype == torch.float32 and torch.isfinite(loss), cfg['type']
        loss.backward()
        assert z.grad.dtype == dtype and torch.isfinite(z.grad).all(), cfg['type']


def test_rog_fp16_gradient_survives_the_loss_scale():
    """Under fp16 AMP the loss is multiplied by the loss scale (2^16 here) before backward: the hand-built gradient
    is multiplied in float32 and cast last, so it equals the float32 gradient within fp16 precision; casting it to
    fp16 first would flush the many tiny entries of a large batch to zero."""
    gen = torch.Generator().manual_seed(11)
    num_rois, num_classes, scale = 512, 100, 2.0 ** 16
    labels = torch.randint(0, num_classes + 1, (num_rois,), generator=gen)
    z16 = (torch.randn(num_rois, num_classes + 1, generator=gen) * 3).half()
    loss = build(dict(type='ROGRankingLoss', num_classes=num_classes))
    loss.num_samples += 1  # the same class weights for both calls
    z32 = z16.float().requires_grad_()
    loss.eval()  # the statistics stay put between the two calls
    loss(z32, labels).backward()
    z16.requires_grad_()
    (loss(z16, labels) * scale).backward()
    assert z16.grad.dtype == torch.float16
    expected = z32.grad
    assert ((expected != 0) & (expected.abs() < 2 ** -24)).any()  # entries an fp16 cast (before the scale) loses
    torch.testing.assert_close(z16.grad.float() / scale, expected, rtol=2 ** -10, atol=2 ** -24 / scale)


def test_bf16_autocast():
    gen = torch.Generator().manual_seed(10)
    labels = torch.tensor([0, 1, 2, 3, 3, 1])
    for cfg in [*det_losses(3).values(), dict(type='ROGRankingLoss', num_classes=3)]:
        fc = torch.nn.Linear(8, channels(cfg) if cfg['type'] != 'ROGRankingLoss' else 4)
        loss_cls = build(cfg)
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
            logits = fc(torch.randn(6, 8, generator=gen))
            assert logits.dtype == torch.bfloat16
            loss = loss_cls(logits, labels)
        assert loss.dtype == torch.float32 and torch.isfinite(loss), cfg['type']
        loss.backward()
        assert torch.isfinite(fc.weight.grad).all() and fc.weight.grad.abs().sum() > 0, cfg['type']
        for name, buf in loss_cls.named_buffers():
            assert torch.isfinite(buf.double()).all(), f'{cfg["type"]}.{name}'


# ---------------------------------------------------------------------------------------------------------------
# 5. the mmdet bbox-head contract (open-mmlab/mmdetection#11038)
# ---------------------------------------------------------------------------------------------------------------
def build_head(loss_cls: dict, head: str = 'Shared2FCBBoxHead', num_classes: int = 3, **kwargs):
    return build(dict(type=head, in_channels=4, roi_feat_size=2, fc_out_channels=8, num_classes=num_classes,
                      loss_cls=loss_cls, **kwargs))


def head_inputs(seed: int, num_rois: int = 6) -> Tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(num_rois, 4, 2, 2, generator=gen)
    xy = torch.rand(num_rois, 2, generator=gen) * 16
    rois = torch.cat([torch.zeros(num_rois, 1), xy, xy + 4 + torch.rand(num_rois, 2, generator=gen) * 8], dim=1)
    return feats, rois


def predict_scores(head, feats: torch.Tensor, rois: torch.Tensor, rcnn_test_cfg=None):
    cls_score, bbox_pred = head(feats)
    result = head.predict_by_feat((rois,), (cls_score,), (bbox_pred,), [dict(img_shape=(32, 32))],
                                  rcnn_test_cfg=rcnn_test_cfg)[0]
    return cls_score, result


HEAD_LOSSES = {**det_losses(3), 'ROG+SigmoidCELoss': dict(type='SigmoidCELoss', num_classes=3)}


@pytest.mark.parametrize('name', sorted(HEAD_LOSSES))
def test_head_width_and_sigmoid_scoring(name):
    from mmengine.config import ConfigDict

    cfg = HEAD_LOSSES[name]
    head = build_head(cfg, head='ROGShared2FCBBoxHead' if name.startswith('ROG') else 'Shared2FCBBoxHead').eval()
    assert head.fc_cls.out_features == channels(cfg)
    feats, rois = head_inputs(0)
    with torch.no_grad():
        cls_score, result = predict_scores(head, feats, rois)
        prob = torch.sigmoid(cls_score.double())
        if cfg['type'] in ('SigmoidCELoss', 'EqualizationLossV2'):   # p_c (1 - p_obj), then p_obj
            want = torch.cat([prob[:, :3] * (1 - prob[:, 3:]), prob[:, 3:]], dim=1)
        else:                                                          # p_c, then a zero column
            want = torch.cat([prob[:, :3], torch.zeros(6, 1, dtype=torch.float64)], dim=1)
        assert result.scores.shape == (6, 4)
        close(result.scores, want, rtol=1e-6)
        if cls_score.size(1) == 4:
            assert not torch.allclose(result.scores.double(), F.softmax(cls_score.double(), -1), atol=1e-3)
        # through multiclass_nms: the background column is dropped, the best detection is the best class score
        _, dets = predict_scores(head, feats, rois, ConfigDict(score_thr=0.0, nms=dict(type='nms', iou_threshold=0.5),
                                                               max_per_img=100))
        assert dets.labels.max() < 3
        assert dets.scores.max().item() == pytest.approx(want[:, :3].max().item(), rel=1e-6)


def test_scores_without_objectness_factor():
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(14))
    prob = torch.sigmoid(z.double())
    scores = build(dict(type='EqualizationLossV2', num_classes=3, test_with_obj=False)).get_activation(z)
    close(scores, prob, rtol=1e-6)
    scores = build(dict(type='SigmoidCELoss', num_classes=3)).get_activation(z.half())
    assert scores.dtype == torch.float32
    close(scores, torch.cat([prob[:, :3] * (1 - prob[:, 3:]), prob[:, 3:]], 1), rtol=1e-3)


def test_mmdet_eqlv2_head_scores_with_softmax():
    """The regression: mmdet 3.3's own EQLV2Loss has no custom_cls_channels, so a sigmoid-trained classifier is
    scored with softmax at test time."""
    head = build_head(dict(type='EQLV2Loss', num_classes=3)).eval()
    assert not getattr(head.loss_cls, 'custom_cls_channels', False)
    assert head.fc_cls.out_features == 4
    feats, rois = head_inputs(1)
    with torch.no_grad():
        cls_score, result = predict_scores(head, feats, rois)
    close(result.scores, F.softmax(cls_score.double(), -1), rtol=1e-6)
    ours = build(dict(type='EqualizationLossV2', num_classes=3)).get_activation(cls_score)
    assert not torch.allclose(result.scores, ours, atol=1e-3)


def head_loss_inputs(num_rois: int, labels: torch.Tensor, num_classes: int = 3):
    gen = torch.Generator().manual_seed(12)
    rois = torch.cat([torch.zeros(num_rois, 1), torch.rand(num_rois, 2, generator=gen) * 8,
                      8 + torch.rand(num_rois, 2, generator=gen) * 8], dim=1)
    return dict(rois=rois, labels=labels, label_weights=torch.ones(num_rois),
                bbox_targets=torch.randn(num_rois, 4, generator=gen), bbox_weights=torch.ones(num_rois, 4))


@pytest.mark.parametrize('name', sorted(HEAD_LOSSES) + ['ROG+SeesawLoss'])
def test_head_loss_accuracy_and_rank(name):
    rog = name.startswith('ROG')
    cfg = dict(type='SeesawLoss', num_classes=3) if name == 'ROG+SeesawLoss' else HEAD_LOSSES[name]
    head = build_head(cfg, head='ROGShared2FCBBoxHead' if rog else 'Shared2FCBBoxHead')
    assert head.fc_cls.out_features == (5 if cfg['type'] == 'SeesawLoss' else channels(cfg))
    feats, _ = head_inputs(2)
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    cls_score, bbox_pred = head(feats)
    losses = head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels))
    acc = head.loss_cls.get_accuracy(cls_score, labels)
    for key in ('acc_objectness', 'acc_classes'):
        assert losses[key].item() == pytest.approx(acc[key].item())
    assert 'acc' not in losses
    assert ('loss_rank' in losses) == rog
    if rog:
        counts = torch.bincount(labels, minlength=4).double()
        close(head.loss_rank.num_samples, counts)
        ref_value, _ = ref_gap(cls_score[:, :3], labels.tolist(), counts[:3].tolist())
        assert losses['loss_rank'].item() == pytest.approx(ref_value, rel=1e-6)
        if cfg['type'] == 'SeesawLoss':
            assert {'loss_cls_objectness', 'loss_cls_classes'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert torch.isfinite(head.fc_cls.weight.grad).all()


def test_get_accuracy_by_hand():
    labels = torch.tensor([0, 1, 2, 0])
    with_obj = torch.tensor([[2., -1., -3.],    # fg predicted fg, class 0 right
                             [-1., 1., 2.],     # fg predicted bg (objectness wrong), class 1 right
                             [0., 0.5, 1.],     # bg predicted bg
                             [1., 3., -1.]])    # fg predicted fg, class 0 wrong (argmax 1)
    acc = build(dict(type='SigmoidCELoss', num_classes=2)).get_accuracy(with_obj, labels)
    assert acc['acc_objectness'].item() == pytest.approx(75.0)
    assert acc['acc_classes'].item() == pytest.approx(200 / 3)
    # without an objectness logit: background iff no class logit > 0
    class_only = torch.tensor([[2., -1.], [-1., -2.], [-0.5, -1.], [1., 3.]])
    acc = build(dict(type='EqualizationLoss', num_classes=2, class_stats=stats([5, 5], 10))).get_accuracy(
        class_only, labels)
    assert acc['acc_objectness'].item() == pytest.approx(75.0)
    assert acc['acc_classes'].item() == pytest.approx(100 / 3)
    # no foreground RoI
    acc = build(dict(type='SigmoidCELoss', num_classes=2)).get_accuracy(with_obj[2:3], torch.tensor([2]))
    assert acc['acc_classes'].item() == 0 and acc['acc_objectness'].item() == 100


@pytest.mark.parametrize('name', ['EqualizationLoss', 'EqualizationLossV2'])
def test_prior_probability_bias_init(name):
    init_cfg = [dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls')),
                dict(type='Normal', std=0.001, override=dict(name='fc_reg')),
                dict(type='Xavier', distribution='uniform', override=dict(name='shared_fcs'))]
    head = build_head(det_losses(3)[name], init_cfg=init_cfg)
    head.init_weights()
    bias = head.fc_cls.bias
    assert bias.numel() == channels(det_losses(3)[name])
    close(bias, torch.full_like(bias, -math.log((1 - 0.001) / 0.001)), rtol=1e-6)
    assert head.fc_cls.weight.std().item() < 0.05


# ---------------------------------------------------------------------------------------------------------------
# 7. resume
# ---------------------------------------------------------------------------------------------------------------
def trained_heads() -> Dict[str, torch.nn.Module]:
    eqlv2 = build_head(dict(type='EqualizationLossV2', num_classes=3))
    rog = build_head(dict(type='SigmoidCELoss', num_classes=3), head='ROGShared2FCBBoxHead')
    fed = build_head(det_losses(3)['FederatedLoss'])
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    for seed, head in enumerate((eqlv2, rog, fed)):
        for it in range(3):
            feats, _ = head_inputs(10 * seed + it)
            cls_score, bbox_pred = head(feats)
            head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels))
    return dict(eqlv2=eqlv2, rog=rog, fed=fed)


STAT_KEYS = {'eqlv2': ['loss_cls.pos_grad', 'loss_cls.neg_grad', 'loss_cls.pos_neg'],
             'rog': ['loss_rank.num_samples'], 'fed': ['loss_cls.num_calls']}


def check_statistics_restored(trained: Dict[str, torch.nn.Module], restored: Dict[str, torch.nn.Module]) -> None:
    for name, keys in STAT_KEYS.items():
        want, got = trained[name].state_dict(), restored[name].state_dict()
        for key in keys:
            assert torch.equal(got[key], want[key]), f'{name}: {key}'
            assert got[key].dtype == want[key].dtype
    assert restored['eqlv2'].loss_cls.pos_grad.dtype == torch.float64
    assert not torch.equal(restored['eqlv2'].loss_cls.pos_neg, torch.full((3,), 100.0, dtype=torch.float64))
    assert int(restored['fed'].loss_cls.num_calls) == 3
    assert restored['rog'].loss_rank.num_samples.sum() == 18


def test_statistics_survive_state_dict():
    trained = trained_heads()
    fresh = dict(eqlv2=build_head(dict(type='EqualizationLossV2', num_classes=3)),
                 rog=build_head(dict(type='SigmoidCELoss', num_classes=3), head='ROGShared2FCBBoxHead'),
                 fed=build_head(det_losses(3)['FederatedLoss']))
    for name, head in fresh.items():
        head.load_state_dict(trained[name].state_dict())
    check_statistics_restored(trained, fresh)


def test_statistics_survive_mmengine_checkpoint(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint, save_checkpoint

    assert getattr(CheckpointLoader.__dict__['load_checkpoint'].__func__, '__ltmm_patched__', False)
    trained = trained_heads()
    fresh = dict(eqlv2=build_head(dict(type='EqualizationLossV2', num_classes=3)),
                 rog=build_head(dict(type='SigmoidCELoss', num_classes=3), head='ROGShared2FCBBoxHead'),
                 fed=build_head(det_losses(3)['FederatedLoss']))
    for name, head in trained.items():
        path = str(tmp_path / f'{name}.pth')
        save_checkpoint(dict(meta=dict(iter=3), state_dict=head.state_dict()), path)
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        for key in STAT_KEYS[name]:
            assert torch.equal(ckpt['state_dict'][key], head.state_dict()[key])
        load_checkpoint(fresh[name], path, map_location='cpu', strict=True)
    check_statistics_restored(trained, fresh)
    # the restored Federated loss continues the sequence of draws
    labels = torch.tensor([3, 3])
    assert torch.equal(fresh['fed'].loss_cls.sample_classes(labels), trained['fed'].loss_cls.sample_classes(labels))
