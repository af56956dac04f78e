"""Tests of SHIKE's DKT loss (ltmm/cls/losses/shike_loss.py)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401  (registers the modules)
from ltmm.cls.losses.shike_loss import shike_loss


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def naive_shike(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-class loops transcribing the official mix_outputs (KL 'mean' = divide by B*C)."""
    b, k_num, c = logits.shape
    total = logits.new_zeros(())
    for k in range(k_num):
        total = total + F.cross_entropy(logits[:, k], label)
        hns = logits.new_zeros(())
        mutual = logits.new_zeros(())
        for i in range(b):
            y = int(label[i])
            mean = logits[i].mean(0)
            mx = logits[i].max(0).values
            h = max((cc for cc in range(c) if cc != y), key=lambda cc: float(mean[cc].detach()))
            t = torch.stack([logits.new_zeros(()) if cc == y else (mean[cc] if cc == h else mx[cc])
                             for cc in range(c)])
            p = torch.softmax(t, 0)
            zq = torch.stack([logits.new_tensor(-30.0) if cc == y else logits[i, k, cc] for cc in range(c)])
            log_q = torch.log_softmax(zq, 0)
            hns = hns + (p * (p.log() - log_q)).sum()
            for j in range(k_num):
                if j != k:
                    pj = torch.softmax(logits[i, j], 0)
                    mutual = mutual + (pj * (pj.log() - torch.log_softmax(logits[i, k], 0))).sum()
        total = total + 10 * hns / (b * c) + mutual / (b * c)
    return total


def test_matches_naive_value_and_gradient():
    torch.manual_seed(0)
    logits = (torch.randn(5, 3, 7) * 4).requires_grad_()
    label = torch.tensor([0, 3, 3, 6, 1])  # classes 2, 4, 5 absent
    ours = shike_loss(logits, label)
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = naive_shike(logits, label)
    (g_ref,) = torch.autograd.grad(ref, logits)
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(g_ours, g_ref, atol=1e-6)


def test_hns_hand_case():
    # one expert, 3 classes, label 0: no mutual term; teacher t = (0, Zbar_h, Zmax_other) with h = argmax non-target
    z = torch.tensor([[[1.0, 2.0, 0.5]]])
    label = torch.tensor([0])
    t = torch.tensor([0.0, 2.0, 0.5])
    p = torch.softmax(t, 0)
    log_q = torch.log_softmax(torch.tensor([-30.0, 2.0, 0.5]), 0)
    ce = -math.log(math.exp(1) / (math.exp(1) + math.exp(2) + math.exp(0.5)))
    expected = ce + 10 * float((p * (p.log() - log_q)).sum()) / 3
    assert float(shike_loss(z, label)) == pytest.approx(expected, rel=1e-5)


def test_module_and_errors():
    loss = MODELS.build(dict(type='SHIKELoss', class_stats=stats([5, 3, 1, 0]), num_experts=2))
    out = loss(torch.randn(4, 2, 4), torch.tensor([0, 1, 1, 2]))
    assert out.dim() == 0 and torch.isfinite(out)
    with pytest.raises(ValueError, match='expected'):
        loss(torch.randn(4, 3, 4), torch.tensor([0, 1, 1, 2]))
    with pytest.raises(ValueError, match='num_experts'):
        MODELS.build(dict(type='SHIKELoss', class_stats=stats([5, 3]), num_experts=0))


def test_dkf_backbone_shapes_sharing_and_fusion():
    backbone = MODELS.build(dict(type='SHIKEResNet32', num_experts=3)).eval()
    assert backbone.depths == (2, 1, 2)
    # shared stem / layer1 / layer2 are single modules; layer3 and the shallow branches are per expert
    assert not isinstance(backbone.layer1, torch.nn.ModuleList) and not isinstance(backbone.layer2, torch.nn.ModuleList)
    assert len(backbone.layer3) == 3 and len(backbone.shallow) == 3
    assert backbone.shallow[0][0].in_channels == 16 and backbone.shallow[1][0].in_channels == 32
    assert not isinstance(backbone.shallow[0][-1], torch.nn.ReLU) and isinstance(backbone.shallow[1][-1], torch.nn.ReLU)
    x = torch.randn(2, 3, 32, 32)
    (out, ) = backbone(x)
    assert out.shape == (2, 3 * 64, 8, 8)
    with torch.no_grad():
        f1 = backbone.layer1(backbone.stem(x))
        f2 = backbone.layer2(f1)
        expert1 = backbone.layer3[1](f2) * backbone.shallow[1](f2)
    assert torch.allclose(out[:, 64:128], expert1, atol=1e-6)
