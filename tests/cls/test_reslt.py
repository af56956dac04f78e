"""ResLT (Cui et al., TPAMI 2022; ``ResLTHead``, ``ResLTLoss``): the loss against a naive transcription of the
official training loops (CIFAR-100, CIFAR-10 and the ImageNet-LT label re-indexing; value and gradient), the head
against transcriptions of the official ``ResLTResNet32`` and ``ResNet_ResLT`` heads (train and eval paths), the group
masks checked by hand, a hand-computed loss, a batch without any medium / tail sample, errors, the checkpoint round
trip, the configs' schedules against the official scripts, and the Digits-LT config training on CPU."""
import copy
import math
from typing import List

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.heads import ResLTHead
from ltmm.cls.losses import ResLTLoss
from ltmm.cls.losses.reslt_loss import reslt_group_masks, reslt_loss
from ltmm.core.splits import shot_groups

from ..helpers import REPO
from .digits_lt_smoke import train_two_iterations

CONFIGS = REPO / 'configs' / 'reslt'
CIFAR100_IF100 = [int(500 * 0.01 ** (i / 99)) for i in range(100)]
CIFAR10_IF100 = [int(5000 * 0.01 ** (i / 9)) for i in range(10)]


def stats(counts) -> dict:
    return dict(num_images=int(sum(counts)), image_count=list(counts), instance_count=list(counts))


def build_loss(counts, **kwargs) -> ResLTLoss:
    return MODELS.build(dict(type='ResLTLoss', class_stats=stats(counts), **kwargs))


def build_head(counts, in_channels=4, num_medium_tail=3, num_tail=1, beta=0.9, **kwargs) -> ResLTHead:
    loss = dict(type='ResLTLoss', class_stats=stats(counts), num_medium_tail=num_medium_tail, num_tail=num_tail,
                beta=beta)
    return MODELS.build(dict(type='ResLTHead', num_classes=len(counts), in_channels=in_channels, loss=loss, **kwargs))


def samples(labels) -> List[DataSample]:
    return [DataSample().set_gt_label(int(y)) for y in labels]


# ---------------------------------------------------------------- naive transcriptions of the official code

def official_cross_entropy(logit, label, weight, num_classes):
    """``crossEntropy`` of the official training scripts (label smoothing 0)."""
    target = F.one_hot(label, num_classes)
    return -(weight * (target * torch.log(nn.Softmax(dim=1)(logit) + 1e-7)).sum(dim=1)).sum()


def official_loss(logitH, logitM, logitT, target, num_classes, m_cols, t_cols, beta, imagenet=False):
    """The ResLT loss of cifarTrain_reslt_cifar100.py / cifarTrain_reslt_cifar10.py (``imagenet=False``: the fused
    term is ``nn.CrossEntropyLoss``) and ImageNetTrain_reslt.py (``imagenet=True``: ``crossEntropy`` / N)."""
    labelH = F.one_hot(target, num_classes).sum(dim=1)
    labelM = F.one_hot(target, num_classes)[:, m_cols].sum(dim=1)
    labelT = F.one_hot(target, num_classes)[:, t_cols].sum(dim=1)
    loss_ice = (official_cross_entropy(logitH, target, labelH, num_classes)
                + official_cross_entropy(logitM, target, labelM, num_classes)
                + official_cross_entropy(logitT, target, labelT, num_classes)) / (
                    labelH.sum() + labelM.sum() + labelT.sum()).float()
    logit = logitH + logitM + logitT
    if imagenet:
        loss_fce = official_cross_entropy(logit, target, labelH, num_classes) / labelH.sum()
    else:
        loss_fce = nn.CrossEntropyLoss()(logit, target)
    return loss_ice * beta + (1 - beta) * loss_fce


class OfficialCIFARHead(nn.Module):
    """``ResLTResNet32`` after the trunk: BNH / BNM / BNT, batch-concatenated, pooled, one linear, split."""

    def __init__(self, channels, num_classes):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(channels, num_classes)
        self.BNH, self.BNM, self.BNT = (nn.BatchNorm2d(channels) for _ in range(3))

    def forward(self, out):
        fs = torch.cat((self.BNH(out), self.BNM(out), self.BNT(out)), dim=0)
        logits = self.linear(self.avgpool(fs).view(fs.size(0), -1))
        c = logits.size(0) // 3
        return logits[:c, :], logits[c:c * 2, :], logits[c * 2:, :]


class OfficialImageNetHead(nn.Module):
    """``ResNet_ResLT._forward_impl`` after layer4 (no dropout)."""

    def __init__(self, channels, num_classes, after_1x1conv, gamma):
        super().__init__()
        self.after_1x1conv, self.gamma = after_1x1conv, gamma
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.finalBlock = nn.Sequential(nn.Conv2d(channels, channels * 3, 1, bias=False),
                                        nn.BatchNorm2d(channels * 3), nn.ReLU(inplace=True))
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        if self.after_1x1conv and self.training:
            x = self.avgpool(self.finalBlock(x))
        else:
            x = self.finalBlock(self.avgpool(x))
        x = torch.flatten(x, 1)
        c, bt = x.size(1) // 3, x.size(0)
        out = torch.cat((x[:, :c], x[:, c:c * 2], x[:, c * 2:c * 3]), dim=0)
        if self.training:
            y = self.fc(out)
        else:
            weight = self.fc.weight
            weight = weight / torch.pow(torch.norm(weight, 2, 1, keepdim=True), self.gamma)
            y = torch.mm(out, torch.t(weight))
        return y[:bt, :], y[bt:bt * 2, :], y[bt * 2:bt * 3, :]


def random_logits(n, c, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 3, c, generator=gen) * 3).requires_grad_(), gen


# ---------------------------------------------------------------- the loss against the official loops

@pytest.mark.parametrize('counts,num_medium_tail,num_tail,m_cols,t_cols,beta', [
    (CIFAR100_IF100, 65, 30, slice(35, 100), slice(70, 100), 0.995),  # CIFAR100LT_imf0.01 ..._beta0.9950.sh
    (CIFAR100_IF100, 65, 30, slice(35, 100), slice(70, 100), 0.72),
    (CIFAR10_IF100, 8, 6, slice(2, 10), slice(4, 10), 0.998),  # cifarTrain_reslt_cifar10.py, ..._beta0.9980.sh
])
def test_loss_value_and_gradient_match_the_official_cifar_loop(counts, num_medium_tail, num_tail, m_cols, t_cols,
                                                               beta):
    c = len(counts)
    loss = build_loss(counts, num_medium_tail=num_medium_tail, num_tail=num_tail, beta=beta)
    logits, gen = random_logits(64, c)
    labels = torch.randint(0, c, (64,), generator=gen)
    ours = loss(logits, labels)
    ref = official_loss(*logits.unbind(1), labels, c, m_cols, t_cols, beta)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, logits)[0], torch.autograd.grad(ref, logits)[0])


def test_pure_function_in_float64_with_gradcheck():
    masks = reslt_group_masks(CIFAR10_IF100, 8, 6)
    logits, gen = random_logits(12, 10, seed=6)
    logits = logits.detach().double().requires_grad_()
    labels = torch.randint(0, 10, (12,), generator=gen)
    target = F.one_hot(labels, 10).double()
    ours = reslt_loss(logits, target, masks, 0.998)
    assert ours.dtype == torch.float64
    torch.testing.assert_close(ours, official_loss(*logits.unbind(1), labels, 10, slice(2, 10), slice(4, 10), 0.998))
    assert torch.autograd.gradcheck(lambda z: reslt_loss(z, target, masks, 0.998, fused_eps=1e-7), (logits,))


def test_loss_matches_the_official_imagenet_loop_on_re_indexed_labels():
    """ImageNetTrain_reslt.py re-indexes the classes by ascending count (``class_map``) and slices ``[:, :825]`` /
    ``[:, :220]``; ltmm keeps the dataset's indices and takes the same least frequent classes."""
    gen = torch.Generator().manual_seed(1)
    c, num_medium_tail, num_tail, beta = 40, 33, 9, 0.99
    counts = (torch.randperm(c * 10, generator=gen)[:c] + 1).tolist()  # distinct: no tie to break
    order = np.argsort(counts)  # official LT_Dataset: sorted_classes
    class_map = np.empty(c, dtype=np.int64)
    class_map[order] = np.arange(c)
    loss = build_loss(counts, num_medium_tail=num_medium_tail, num_tail=num_tail, beta=beta, fused_eps=1e-7)
    logits, gen = random_logits(48, c, seed=2)
    labels = torch.randint(0, c, (48,), generator=gen)
    ours = loss(logits, labels)
    official_logits = logits[:, :, torch.from_numpy(order)]  # official column j = our class order[j]
    ref = official_loss(*official_logits.unbind(1), torch.from_numpy(class_map[labels.numpy()]), c,
                        slice(0, num_medium_tail), slice(0, num_tail), beta, imagenet=True)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, logits)[0], torch.autograd.grad(ref, logits)[0])


def test_hand_computed_loss():
    # classes 0 (head) and 1 (medium+tail and tail); branch 1 gives softmax (3/4, 1/4) / (1/4, 3/4), the others 1/2
    counts, ln3 = [10, 1], math.log(3.0)
    z = torch.zeros(2, 3, 2)
    z[0, 1] = torch.tensor([ln3, 0.0])
    z[1, 1] = torch.tensor([0.0, ln3])
    labels = torch.tensor([0, 1])
    # L_ice: sample 0 in the main branch only, sample 1 in all three: (3 ln 2 + ln 4/3) / 4; fused: softmax 3/4
    ice, fce = (3 * math.log(2) + math.log(4 / 3)) / 4, math.log(4 / 3)
    for beta in (0.0, 0.5, 1.0):
        loss = build_loss(counts, num_medium_tail=1, num_tail=1, beta=beta, eps=0.0)
        assert loss(z, labels).item() == pytest.approx(beta * ice + (1 - beta) * fce, rel=1e-6)
    # the official 1e-7 inside the log of the branch terms
    loss = build_loss(counts, num_medium_tail=1, num_tail=1, beta=1.0)
    want = -(3 * math.log(0.5 + 1e-7) + math.log(0.75 + 1e-7)) / 4
    assert loss(z, labels).item() == pytest.approx(want, rel=1e-6)


def test_one_hot_soft_targets_equal_hard_labels():
    loss = build_loss(CIFAR10_IF100, num_medium_tail=8, num_tail=6, beta=0.9)
    logits, gen = random_logits(16, 10, seed=3)
    labels = torch.randint(0, 10, (16,), generator=gen)
    torch.testing.assert_close(loss(logits, F.one_hot(labels, 10).float()), loss(logits, labels))


def test_a_batch_without_medium_or_tail_samples():
    """No sample of the medium+tail group: the residual branches get no gradient from L_ice, the normaliser is N,
    and the loss is beta * CE(main branch) + (1 - beta) * CE(fused)."""
    counts = [100, 50, 20, 10, 5]
    labels = torch.tensor([0, 1, 1, 0])
    logits, _ = random_logits(4, 5, seed=4)
    loss = build_loss(counts, num_medium_tail=3, num_tail=1, beta=1.0, eps=0.0)
    value = loss(logits, labels)
    grad = torch.autograd.grad(value, logits)[0]
    assert grad[:, 1:].abs().max() == 0 and grad[:, 0].abs().max() > 0
    torch.testing.assert_close(value, F.cross_entropy(logits[:, 0], labels))
    beta = 0.7
    mixed = build_loss(counts, num_medium_tail=3, num_tail=1, beta=beta, eps=0.0)(logits, labels)
    torch.testing.assert_close(mixed, beta * F.cross_entropy(logits[:, 0], labels)
                               + (1 - beta) * F.cross_entropy(logits.sum(1), labels))
    # a tail sample only: each of its three branch terms counts once in a normaliser of N + 2
    value = build_loss(counts, num_medium_tail=3, num_tail=1, beta=1.0, eps=0.0)(logits, torch.tensor([0, 1, 4, 0]))
    per = F.cross_entropy(logits[:, 0], torch.tensor([0, 1, 4, 0]), reduction='sum')
    per = per + F.cross_entropy(logits[2:3, 1], torch.tensor([4])) + F.cross_entropy(logits[2:3, 2], torch.tensor([4]))
    torch.testing.assert_close(value, per / 6)


def test_low_precision_logits_give_a_float32_loss():
    loss = build_loss(CIFAR10_IF100, num_medium_tail=8, num_tail=6)
    logits, gen = random_logits(8, 10, seed=5)
    labels = torch.randint(0, 10, (8,), generator=gen)
    half = loss(logits.detach().bfloat16(), labels)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, loss(logits.detach().bfloat16().float(), labels))


# ---------------------------------------------------------------- the groups

def test_group_masks_by_hand():
    # descending by count, ties in index order: 1 (30), 2 (30), 4 (20), 0 (10), 3 (5)
    counts = [10, 30, 30, 5, 20]
    masks = reslt_group_masks(counts, num_medium_tail=3, num_tail=2)
    assert masks.dtype == torch.bool and masks.shape == (3, 5)
    assert masks[0].all()
    assert masks[1].tolist() == [True, False, False, True, True]  # 4, 0, 3
    assert masks[2].tolist() == [True, False, False, True, False]  # 0, 3
    # a boundary between equal counts: the tie goes to the higher index (class 2 counts as rarer than class 1)
    assert reslt_group_masks(counts, 4, 0)[1].tolist() == [True, False, True, True, True]
    assert not reslt_group_masks(counts, 4, 0)[2].any()
    assert reslt_group_masks(counts, 5, 5).all()
    # a class without training images is the rarest
    assert reslt_group_masks([3, 0, 7], 1, 1)[1:].tolist() == [[False, True, False]] * 2


def test_official_cifar_groups_are_the_index_slices_and_the_shot_groups_at_if100():
    masks = reslt_group_masks(CIFAR100_IF100, 65, 30)
    index = torch.arange(100)
    assert torch.equal(masks[1], index >= 35) and torch.equal(masks[2], index >= 70)
    shot = shot_groups(CIFAR100_IF100)  # many > 100, few < 20
    assert masks[1].numpy().tolist() == (shot != 'many').tolist()
    assert masks[2].numpy().tolist() == (shot == 'few').tolist()
    masks10 = reslt_group_masks(CIFAR10_IF100, 8, 6)
    assert torch.equal(masks10[1], torch.arange(10) >= 2) and torch.equal(masks10[2], torch.arange(10) >= 4)


def test_the_loss_keeps_its_groups_out_of_checkpoints():
    loss = build_loss(CIFAR10_IF100, num_medium_tail=8, num_tail=6)
    assert 'group_masks' not in loss.state_dict()
    torch.testing.assert_close(loss.group_masks, reslt_group_masks(CIFAR10_IF100, 8, 6))


# ---------------------------------------------------------------- errors

def test_bad_counts_groups_and_arguments():
    with pytest.raises(ValueError, match='non-negative'):
        build_loss([5, -1, 2], num_medium_tail=1, num_tail=1)
    with pytest.raises(ValueError, match='num_classes=4'):
        build_loss([5, 3, 2], num_classes=4, num_medium_tail=1, num_tail=1)
    with pytest.raises(ValueError, match=r'num_tail \(2\) <= num_medium_tail \(1\)'):
        build_loss([5, 3, 2], num_medium_tail=1, num_tail=2)
    with pytest.raises(ValueError, match=r'num_medium_tail \(4\) <= num_classes \(3\)'):
        build_loss([5, 3, 2], num_medium_tail=4, num_tail=2)
    with pytest.raises(ValueError, match='num_tail'):
        build_loss([5, 3, 2], num_medium_tail=2, num_tail=-1)
    with pytest.raises(ValueError, match='num_medium_tail must be an integer'):
        build_loss([5, 3, 2], num_medium_tail=1.5, num_tail=1)
    with pytest.raises(TypeError, match='num_medium_tail'):
        build_loss([5, 3, 2], num_tail=1)
    with pytest.raises(ValueError, match='beta'):
        build_loss([5, 3, 2], num_medium_tail=2, num_tail=1, beta=1.5)
    with pytest.raises(ValueError, match='eps'):
        build_loss([5, 3, 2], num_medium_tail=2, num_tail=1, eps=-1e-7)
    with pytest.raises(ValueError, match="reduction must be 'mean'"):
        build_loss([5, 3, 2], num_medium_tail=2, num_tail=1, reduction='sum')
    with pytest.raises(ValueError, match='1-D'):
        reslt_group_masks([[1, 2]], 1, 1)


def test_bad_loss_inputs():
    loss = build_loss([5, 3, 2], num_medium_tail=2, num_tail=1)
    labels = torch.tensor([0, 2])
    with pytest.raises(ValueError, match=r'\(N, 3, C\)'):
        loss(torch.zeros(2, 3), labels)
    with pytest.raises(ValueError, match='3 branches'):
        loss(torch.zeros(2, 2, 3), labels)
    with pytest.raises(ValueError, match='3 classes'):
        loss(torch.zeros(2, 3, 4), labels)
    with pytest.raises(ValueError, match='sample weights'):
        loss(torch.zeros(2, 3, 3), labels, weight=torch.ones(2))
    with pytest.raises(ValueError, match='reduction_override'):
        loss(torch.zeros(2, 3, 3), labels, reduction_override='none')
    assert torch.isfinite(loss(torch.zeros(2, 3, 3), labels, avg_factor=7, reduction_override='mean'))


def test_bad_head_arguments_and_inputs():
    counts = [5, 3, 2]
    with pytest.raises(TypeError, match='needs a ResLTLoss'):
        MODELS.build(dict(type='ResLTHead', num_classes=3, in_channels=4, loss=dict(type='CrossEntropyLoss')))
    with pytest.raises(ValueError, match='num_classes=4'):  # the loss's class_stats has 3 classes
        MODELS.build(dict(type='ResLTHead', num_classes=4, in_channels=4, loss=dict(
            type='ResLTLoss', class_stats=stats(counts), num_medium_tail=2, num_tail=1)))
    with pytest.raises(ValueError, match='expand'):
        build_head(counts, expand='conv3x3')
    with pytest.raises(ValueError, match='test_gamma'):
        build_head(counts, test_gamma=-0.5)
    with pytest.raises(ValueError, match='in_channels'):
        build_head(counts, in_channels=0)
    head = build_head(counts)
    with pytest.raises(ValueError, match='without neck'):
        head((torch.rand(2, 4),))  # pooled features
    with pytest.raises(ValueError, match='in_channels=4'):
        head((torch.rand(2, 5, 3, 3),))


# ---------------------------------------------------------------- the head against the official models

def test_bn_head_matches_the_official_cifar_model():
    counts = CIFAR10_IF100
    torch.manual_seed(0)
    head = build_head(counts, in_channels=6, num_medium_tail=8, num_tail=6, beta=0.998)
    official = OfficialCIFARHead(6, 10)
    with torch.no_grad():  # non-trivial affine parameters, the same in both
        for i, bn in enumerate((official.BNH, official.BNM, official.BNT)):
            bn.weight.copy_(torch.rand(6) + 0.5)
            bn.bias.copy_(torch.randn(6))
            head.branch_norms[i].load_state_dict(bn.state_dict())
        head.fc.load_state_dict(official.linear.state_dict())
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, 6, 4, 4, generator=gen).relu()
    labels = torch.randint(0, 10, (8,), generator=gen)
    x_ours = x.clone().requires_grad_()
    x_ref = x.clone().requires_grad_()
    ours = head.loss((x_ours,), samples(labels))['loss']
    ref = official_loss(*official(x_ref), labels, 10, slice(2, 10), slice(4, 10), 0.998)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad)
    torch.testing.assert_close(head.fc.weight.grad, official.linear.weight.grad)
    for i, bn in enumerate((official.BNH, official.BNM, official.BNT)):
        torch.testing.assert_close(head.branch_norms[i].weight.grad, bn.weight.grad)
        torch.testing.assert_close(head.branch_norms[i].running_mean, bn.running_mean)  # the same statistics
    head.eval()
    official.eval()
    with torch.no_grad():
        want = sum(official(x))
        torch.testing.assert_close(head.predict_logits((x,)), want)  # the official CIFAR test: plain fc, bias
        pred = head.predict((x,))
    torch.testing.assert_close(torch.stack([s.pred_score for s in pred]), want.softmax(dim=1))


@pytest.mark.parametrize('after_1x1conv,gamma', [(True, 0.7), (False, 0.3), (True, 0.0)])
def test_conv1x1_head_matches_the_official_imagenet_model(after_1x1conv, gamma):
    counts = [40, 30, 20, 12, 9, 7, 5, 3]
    torch.manual_seed(0)
    head = build_head(counts, in_channels=4, num_medium_tail=6, num_tail=2, beta=0.99, expand='conv1x1',
                      after_1x1conv=after_1x1conv, test_gamma=gamma)
    official = OfficialImageNetHead(4, 8, after_1x1conv, gamma)
    with torch.no_grad():
        official.finalBlock[1].weight.copy_(torch.rand(12) + 0.5)
        official.finalBlock[1].bias.copy_(torch.randn(12) * 0.1)
    head.final_block.load_state_dict(official.finalBlock.state_dict())
    head.fc.load_state_dict(official.fc.state_dict())
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(6, 4, 5, 5, generator=gen).relu()
    labels = torch.randint(0, 8, (6,), generator=gen)
    order = np.argsort(counts, kind='stable')  # distinct counts: the official re-indexing is the identity reversed
    class_map = np.empty(8, dtype=np.int64)
    class_map[order] = np.arange(8)
    for module in (head, official):
        module.train()
    ours = head.branch_logits((x,))
    ref = torch.stack(official(x), dim=1)
    torch.testing.assert_close(ours, ref)
    loss = head.loss((x,), samples(labels))['loss']
    perm = torch.from_numpy(order)
    want = official_loss(*ref[:, :, perm].unbind(1), torch.from_numpy(class_map[labels.numpy()]), 8,
                         slice(0, 6), slice(0, 2), 0.99, imagenet=False)
    torch.testing.assert_close(loss, want)
    official(x)  # two training forwards on each side: the same running statistics
    head.eval()
    official.eval()
    with torch.no_grad():
        torch.testing.assert_close(head.predict_logits((x,)), sum(official(x)))
    # the prediction path is chosen by predict(), not by the mode: in train mode too (batch statistics)
    head.train()
    official.train()
    with torch.no_grad():
        official.training = False  # the official eval path ...
        official.finalBlock.train()  # ... with batch statistics, as our head in train mode
        torch.testing.assert_close(head.predict_logits((x,)), sum(official(x)))


def test_official_initialisation():
    head = build_head([5, 3, 2], in_channels=64, expand='conv1x1')
    conv = head.final_block[0]
    assert conv.bias is None and conv.weight.shape == (192, 64, 1, 1)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 192), rel=0.1)  # Kaiming normal, fan-out
    assert head.fc.weight.abs().max() <= 1 / 8  # nn.Linear's default: U(-1/sqrt(D), 1/sqrt(D))
    bn_head = build_head([5, 3, 2], in_channels=64)
    for norm in bn_head.branch_norms:
        assert torch.equal(norm.weight, torch.ones(64)) and torch.equal(norm.bias, torch.zeros(64))


def test_forward_is_the_training_path_and_accuracy_uses_the_sum():
    head = build_head([5, 3, 2], test_gamma=1.0, cal_acc=True)
    x = torch.rand(4, 4, 2, 2)
    torch.testing.assert_close(head((x,)), head.branch_logits((x,)).sum(1))
    assert not torch.allclose(head((x,)), head.predict_logits((x,)))  # the normalised, bias-free classifier
    losses = head.loss((x,), samples([0, 1, 2, 0]))
    want = (head.branch_logits((x,)).sum(1).argmax(1) == torch.tensor([0, 1, 2, 0])).float().mean() * 100
    torch.testing.assert_close(losses['accuracy_top-1'][0].squeeze(), want)


def test_state_dict_round_trip():
    for kwargs in (dict(), dict(expand='conv1x1', test_gamma=0.7)):
        head = build_head([5, 3, 2, 1], **kwargs)
        head.loss((torch.rand(6, 4, 3, 3),), samples([0, 1, 2, 3, 0, 1]))  # moves the BatchNorm statistics
        state = head.state_dict()
        prefixes = {'fc'} | ({'final_block'} if kwargs else {'branch_norms'})
        assert {k.split('.')[0] for k in state} == prefixes  # the loss keeps nothing
        fresh = build_head([5, 3, 2, 1], **kwargs)
        fresh.load_state_dict(state)
        head.eval()
        fresh.eval()
        x = torch.rand(2, 4, 3, 3)
        torch.testing.assert_close(fresh.predict_logits((x,)), head.predict_logits((x,)))


# ---------------------------------------------------------------- the configs against the official scripts

def scheduled_lrs(cfg: Config, epochs: int) -> List[float]:
    """The lr at each epoch as mmengine's ParamSchedulerHook steps the configured by-epoch schedulers."""
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import PARAM_SCHEDULERS

    wrapper = build_optim_wrapper(nn.Linear(1, 1), copy.deepcopy(cfg.optim_wrapper))
    scheds = cfg.param_scheduler if isinstance(cfg.param_scheduler, list) else [cfg.param_scheduler]
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper.optimizer)) for s in copy.deepcopy(scheds)]
    out = []
    for _ in range(epochs):
        out.append(wrapper.optimizer.param_groups[0]['lr'])
        for s in schedulers:
            s.step()
    return out


def official_cifar_lr(epoch: int, lr: float = 0.1) -> float:
    """cifarTrain_reslt_cifar100.py ``lr_schedule_multistep``."""
    if epoch < 5:
        factor = (epoch + 1) / 5.0
        return lr * (1 / 3.0 * (1 - factor) + factor)
    if epoch < 160:
        return lr
    return lr * 0.1 if epoch < 180 else lr * 0.1 * 0.1


def official_imagenet_lr(epoch: int, lr: float = 0.1, epochs: int = 180, warmup: int = 5) -> float:
    """ImageNetTrain_reslt.py ``adjust_learning_rate``."""
    if epoch < warmup:
        return lr / warmup * (epoch + 1)
    return 0.5 * lr * (1 + math.cos((epoch - warmup + 1) / (epochs - warmup + 1) * 3.1415926))


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('config,epochs,official', [
    ('reslt_resnet32_1xb128_cifar100-lt-if100_200e.py', 200, official_cifar_lr),
    ('reslt_resnet50_4xb64_imagenet-lt_180e.py', 180, official_imagenet_lr),
    ('reslt_resnext50-32x4d_4xb64_imagenet-lt_180e.py', 180, official_imagenet_lr),
])
def test_schedules_are_the_official_ones(config, epochs, official):
    cfg = Config.fromfile(str(CONFIGS / config))
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_dataloader.drop_last
    np.testing.assert_allclose(scheduled_lrs(cfg, epochs), [official(e) for e in range(epochs)], rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize('config,batch,gpus,nesterov,wd,groups,beta,expand,gamma', [
    ('reslt_resnet32_1xb128_cifar100-lt-if100_200e.py', 128, 1, True, 5e-4, (65, 30), 0.995, 'bn', None),
    ('reslt_resnet50_4xb64_imagenet-lt_180e.py', 64, 4, False, 5e-4, (825, 220), 0.99, 'conv1x1', 0.7),
    ('reslt_resnext50-32x4d_4xb64_imagenet-lt_180e.py', 64, 4, False, 5e-4, (825, 220), 0.99, 'conv1x1', 0.7),
])
def test_recipes_are_the_official_ones(config, batch, gpus, nesterov, wd, groups, beta, expand, gamma):
    cfg = Config.fromfile(str(CONFIGS / config))
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay, opt.get('nesterov', False)) == \
        ('SGD', 0.1, 0.9, wd, nesterov)
    assert cfg.train_dataloader.batch_size == batch and cfg.auto_scale_lr.base_batch_size == batch * gpus
    assert cfg.model.neck is None
    head = cfg.model.head
    assert (head.type, head.expand, head.get('test_gamma')) == ('ResLTHead', expand, gamma)
    loss = head.loss
    assert (loss.num_medium_tail, loss.num_tail, loss.beta) == (*groups, beta)
    assert loss.get('fused_eps', 0.0) == (1e-7 if expand == 'conv1x1' else 0.0)
    assert loss.class_stats == cfg.class_stats
    if expand == 'conv1x1':
        assert cfg.model.backbone.zero_init_residual is False


# ---------------------------------------------------------------- Digits-LT on CPU

@pytest.mark.slow
def test_digits_lt_config_trains_and_predicts(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(str(CONFIGS / 'reslt_lenet_1xb32_digits-lt_30e.py'), tmp_path)
    assert math.isfinite(loss) and loss > 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    head = runner.model.head
    assert isinstance(head, ResLTHead) and head.loss_module.group_masks.sum(1).tolist() == [10, 9, 5]
    assert head.branch_norms[1].num_batches_tracked.item() == 2  # every branch trained for both iterations
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
