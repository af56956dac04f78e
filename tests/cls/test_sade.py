"""SADE: the three expert losses against a naive transcription of the official DiverseExpertLoss (value and gradient),
the inverse prior with tau = 2 by hand, the test-agnostic splits against the official CIFAR construction and the
official split files' sizes, the stability objective and the aggregation loop against the official test_training
loop (weights, early stop), the weights file read by the head (the tools/test.py path), LADE's target prior set from
a split, and the Digits-LT CPU smoke: two training iterations, the aggregation on a small split and its evaluation."""
import importlib.util
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.datasets.agnostic_lt import (
    TestAgnosticDataset,
    agnostic_counts,
    agnostic_dataset_cfg,
    agnostic_indices,
    frequency_rank,
    parse_split_name,
    split_names,
)
from ltmm.cls.heads.multi_expert_cls_head import load_expert_weights, save_expert_weights
from ltmm.cls.losses.sade_loss import (
    inverse_prior,
    learn_expert_weights,
    sade_expert_losses,
    sade_logit_adjustments,
    sade_stability_loss,
)
from ltmm.core.class_stats import load_class_stats

from ..helpers import REPO
from .digits_lt_smoke import train_two_iterations

COUNTS = [200, 60, 20, 6, 2]
SADE_DIGITS = str(REPO / 'configs/sade/sade_resnet32_1xb32_digits-lt_30e.py')
LADE_DIGITS = str(REPO / 'configs/lade/lade_lenet_1xb32_digits-lt_30e.py')


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(counts=COUNTS, **kw):
    return MODELS.build(dict(type='SADELoss', class_stats=stats(counts), **kw))


def load_tool():
    spec = importlib.util.spec_from_file_location('test_agnostic_tool', REPO / 'tools/analysis/test_agnostic.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ naive transcriptions of the official code

def official_inverse_prior(prior):
    """model/loss.py DiverseExpertLoss.inverse_prior."""
    value, idx0 = torch.sort(prior)
    _, idx1 = torch.sort(idx0)
    idx2 = prior.shape[0] - 1 - idx1
    return value.index_select(0, idx2)


def official_loss(expert_logits, target, cls_num_list, tau=2):
    """model/loss.py DiverseExpertLoss.forward with extra_info['logits'] = the three experts' logits."""
    prior = torch.tensor(np.array(cls_num_list) / np.sum(cls_num_list)).float()
    loss = F.cross_entropy(expert_logits[0], target)
    loss = loss + F.cross_entropy(expert_logits[1] + torch.log(prior + 1e-9), target)
    inv = official_inverse_prior(prior)
    loss = loss + F.cross_entropy(expert_logits[2] + torch.log(prior + 1e-9) - tau * torch.log(inv + 1e-9), target)
    return loss


def official_aggregation(batches, epochs, lr, weight_decay):
    """test_training_*.py main / test_training: SGD nesterov on softmax-normalised weights, -cos of the two views'
    softmax predictions, early stop on the rounded weights after each epoch."""
    aggregation_weight = torch.nn.Parameter(torch.FloatTensor(3), requires_grad=True)
    aggregation_weight.data.fill_(1 / 3)
    optimizer = torch.optim.SGD([aggregation_weight], lr=lr, weight_decay=weight_decay, momentum=0.9, nesterov=True)
    cos = torch.nn.CosineSimilarity(dim=1, eps=1e-6)
    epochs_run = 0
    for _ in range(epochs):
        for output0, output1 in batches:
            s = F.softmax(aggregation_weight, dim=0)
            out0 = s[0] * output0[:, 0, :] + s[1] * output0[:, 1, :] + s[2] * output0[:, 2, :]
            out1 = s[0] * output1[:, 0, :] + s[1] * output1[:, 1, :] + s[2] * output1[:, 2, :]
            loss = -cos(F.softmax(out0, dim=1), F.softmax(out1, dim=1)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epochs_run += 1
        record = np.round(F.softmax(aggregation_weight, dim=0).detach().numpy(), decimals=2)
        if record[0] < 0.05 or record[1] < 0.05 or record[2] < 0.05:
            break
    return F.softmax(aggregation_weight, dim=0).detach(), epochs_run


def official_cifar_split(labels, imb_factor, reverse, cls_num):
    """data_loader/imbalance_cifar.py IMBALANCECIFAR10.__init__ (rand_number 0), get_img_num_per_cls ('exp'),
    gen_imbalanced_data: the kept indices, in the order the official dataset holds them."""
    np.random.seed(0)
    img_max = len(labels) / cls_num
    nums = []
    for cls_idx in range(cls_num):
        if reverse:
            nums.append(int(img_max * (imb_factor ** ((cls_num - 1 - cls_idx) / (cls_num - 1.0)))))
        else:
            nums.append(int(img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))))
    targets_np = np.array(labels, dtype=np.int64)
    keep = []
    for the_class, the_img_num in zip(np.unique(targets_np), nums):
        idx = np.where(targets_np == the_class)[0]
        np.random.shuffle(idx)
        keep.append(idx[:the_img_num])
    return np.concatenate(keep)


# ------------------------------------------------------------------------------------------- SADELoss

@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('tau', [2.0, 1.0])
def test_loss_matches_the_official_value_and_gradient(seed, tau):
    torch.manual_seed(seed)
    counts = [500, 120, 37, 9, 3, 1]  # distinct counts: the official (unstable) sort is unambiguous
    logits = (torch.randn(16, 3, 6) * 10).requires_grad_()
    target = torch.randint(0, 6, (16, ))
    ours = build(counts, tau=tau)(logits, target, avg_factor=16)
    ref_logits = logits.detach().clone().requires_grad_()
    ref = official_loss([ref_logits[:, k] for k in range(3)], target, counts, tau)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(logits.grad, ref_logits.grad, rtol=1e-5, atol=1e-7)


def test_each_expert_against_its_official_term():
    torch.manual_seed(2)
    counts = [300, 90, 30, 8]
    logits = torch.randn(10, 3, 4) * 5
    target = torch.randint(0, 4, (10, ))
    per_expert = sade_expert_losses(logits, F.one_hot(target, 4).float(), sade_logit_adjustments(counts, 2.0))
    prior = torch.tensor(np.array(counts) / np.sum(counts)).float()
    inv = official_inverse_prior(prior)
    expected = [F.cross_entropy(logits[:, 0], target, reduction='none'),
                F.cross_entropy(logits[:, 1] + torch.log(prior + 1e-9), target, reduction='none'),
                F.cross_entropy(logits[:, 2] + torch.log(prior + 1e-9) - 2 * torch.log(inv + 1e-9), target,
                                reduction='none')]
    for k in range(3):
        torch.testing.assert_close(per_expert[:, k], expected[k], rtol=1e-5, atol=1e-6)


def test_inverse_prior_and_tau_two_by_hand():
    prior = torch.tensor([0.1, 0.6, 0.3])  # classes 1 > 2 > 0
    torch.testing.assert_close(inverse_prior(prior), torch.tensor([0.6, 0.1, 0.3]))
    torch.testing.assert_close(inverse_prior(prior), official_inverse_prior(prior))
    # ties ranked by class index: sorted values [5, 5, 10, 20] mirrored
    torch.testing.assert_close(inverse_prior(torch.tensor([5., 5., 10., 20.])), torch.tensor([20., 10., 5., 5.]))
    adj = sade_logit_adjustments([10, 60, 30], tau=2.0)
    log = math.log
    expected = torch.tensor([[0.0, 0.0, 0.0],
                             [log(0.1 + 1e-9), log(0.6 + 1e-9), log(0.3 + 1e-9)],
                             [log(0.1) - 2 * log(0.6), log(0.6) - 2 * log(0.1), log(0.3) - 2 * log(0.3)]])
    torch.testing.assert_close(adj, expected, rtol=1e-5, atol=1e-5)
    # the backward expert's training logits are boosted most for the head class, least for the rarest, so its raw
    # logits (the prediction) favour the tail: a backward long-tailed expert
    assert adj[2].argmax() == 1 and adj[2].argmin() == 0


def test_one_sample_by_hand():
    counts = [3, 1]  # pi = (0.75, 0.25), pi_inv = (0.25, 0.75)
    logits = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]])
    loss = build(counts)(logits, torch.tensor([1]), avg_factor=1)
    z2 = [math.log(0.75), math.log(0.25)]
    z3 = [math.log(0.75) - 2 * math.log(0.25), 2.0 + math.log(0.25) - 2 * math.log(0.75)]

    def ce(z, y):
        return -z[y] + math.log(sum(math.exp(v) for v in z))
    assert float(loss) == pytest.approx(ce([1.0, 0.0], 1) + ce(z2, 1) + ce(z3, 1), rel=1e-5)


def test_absent_class_zero_count_and_reductions():
    loss = build([50, 10, 0])  # a class without training images: log(0 + 1e-9), as the official code
    assert torch.isfinite(loss.adjustments).all()
    logits = torch.randn(4, 3, 3, requires_grad=True)
    target = torch.tensor([0, 0, 1, 0])  # class 2 absent from the batch
    value = loss(logits, target, avg_factor=4)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    per_sample = loss(logits, target, reduction_override='none')
    assert per_sample.shape == (4, )
    torch.testing.assert_close(loss(logits, target, reduction_override='sum'), per_sample.sum())
    torch.testing.assert_close(value, per_sample.mean())
    half = loss(logits, target, weight=torch.tensor([1.0, 0.0, 1.0, 0.0]), reduction_override='sum')
    torch.testing.assert_close(half, per_sample[0] + per_sample[2])


def test_low_precision_logits_are_computed_in_float32():
    logits = torch.randn(6, 3, 5)
    target = torch.randint(0, 5, (6, ))
    loss = build()
    torch.testing.assert_close(loss(logits.half(), target), loss(logits.half().float(), target))
    assert loss(logits.half(), target).dtype == torch.float32


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='exactly 3 experts'):
        build()(torch.randn(4, 2, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r'shape \(4, 3, 4\)'):
        build()(torch.randn(4, 3, 4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match='tau'):
        build(tau=-1.0)
    with pytest.raises(ValueError, match='no training image'):
        build([0, 0, 0])
    with pytest.raises(ValueError, match='5'):
        MODELS.build(dict(type='SADELoss', class_stats=stats(COUNTS), num_classes=4))


def test_head_trains_the_three_experts_and_predicts_their_mean():
    head = MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=8, num_experts=3,
                             fusion=dict(type='weighted', weights=None),
                             loss=dict(type='SADELoss', class_stats=stats(COUNTS))))
    feats = (torch.randn(6, 24), )
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i % 5) for i in range(6)]
    losses = head.loss(feats, samples)
    expert_logits = head.forward_experts(feats)
    target = torch.tensor([i % 5 for i in range(6)])
    torch.testing.assert_close(losses['loss'], official_loss([expert_logits[:, k] for k in range(3)], target, COUNTS))
    torch.testing.assert_close(head(feats), expert_logits.mean(dim=1))


# ------------------------------------------------------------------------------------- test-agnostic splits

@pytest.mark.parametrize('distribution,ratio', [('forward', 50), ('forward', 25), ('forward', 10), ('forward', 5),
                                                ('forward', 2), ('uniform', 1), ('backward', 2), ('backward', 5),
                                                ('backward', 10), ('backward', 25), ('backward', 50)])
def test_splits_are_the_official_cifar_draw(distribution, ratio):
    """A balanced CIFAR-100-shaped test set (100 images per class, labels interleaved as in the archive): the same
    per-class counts and the very same images, in the same order, as the official construction."""
    rng = np.random.RandomState(7)
    labels = rng.permutation(np.repeat(np.arange(100), 100))
    ours = agnostic_indices(labels, 100, distribution, ratio)
    expected = official_cifar_split(labels, 1.0 / ratio, distribution == 'backward', 100)
    np.testing.assert_array_equal(ours, expected)
    counts = np.bincount(labels[ours], minlength=100)
    profile = [int(100 * (1 / ratio) ** (i / 99)) for i in range(100)]
    np.testing.assert_array_equal(counts, profile[::-1] if distribution == 'backward' else profile)


def test_split_sizes_match_the_official_files():
    """Per-class counts of the shipped split files (Vanint/SADE-AgnosticLT data_txt/), read there: ImageNet-LT
    (50 test images per class, 1000 classes) and Places-LT (100, 365); CIFAR-100's forward50 keeps 2486 images."""
    imagenet = {2: 35574, 5: 24365, 10: 19059, 25: 14437, 50: 12058}
    places = {2: 26155, 5: 17970, 10: 14103, 25: 10727, 50: 8989}
    for ratio in imagenet:
        for distribution in ('forward', 'backward'):
            assert agnostic_counts(50, 1000, distribution, ratio).sum() == imagenet[ratio]
            assert agnostic_counts(100, 365, distribution, ratio).sum() == places[ratio]
    assert agnostic_counts(100, 100, 'forward', 50).sum() == 2486
    assert agnostic_counts(50, 1000, 'uniform').sum() == 50000
    forward50 = agnostic_counts(50, 1000, 'forward', 50)
    assert forward50.max() == 50 and forward50.min() == 1  # "1 ... 50 per class"


def test_classes_are_ranked_by_training_count():
    train = [5, 500, 50, 50, 200]  # rank: 1, 4, 2 / 3 (tie by class index), 0
    np.testing.assert_array_equal(frequency_rank(train), [4, 0, 2, 3, 1])
    forward = agnostic_counts(10, 5, 'forward', 10, frequency_rank(train))
    backward = agnostic_counts(10, 5, 'backward', 10, frequency_rank(train))
    profile = np.array([int(10 * 0.1 ** (i / 4)) for i in range(5)])  # 10, 5, 3, 1, 1
    np.testing.assert_array_equal(forward, profile[[4, 0, 2, 3, 1]])
    np.testing.assert_array_equal(backward, profile[::-1][[4, 0, 2, 3, 1]])


class _Balanced:
    """A minimal balanced test dataset: 4 classes x 6 images."""
    metainfo = dict(classes=('a', 'b', 'c', 'd'))

    def __init__(self, labels=None):
        self.labels = np.repeat(np.arange(4), 6) if labels is None else np.asarray(labels)

    def get_gt_labels(self):
        return self.labels

    def __getitem__(self, idx):
        return dict(index=idx, gt_label=int(self.labels[idx]))

    def get_data_info(self, idx):
        return self[idx]


def test_wrapper_draws_and_serves_the_split():
    train = stats([10, 400, 60, 3])  # frequency rank: 2, 0, 1, 3
    data = TestAgnosticDataset(_Balanced(), 'forward', 5, class_stats=train)
    profile = [int(6 * 0.2 ** (i / 3)) for i in range(4)]  # 6, 3, 2, 1
    np.testing.assert_array_equal(data.class_counts, [profile[2], profile[0], profile[1], profile[3]])
    assert len(data) == sum(profile) and data.name == 'forward5'
    assert [data[i]['gt_label'] for i in range(len(data))] == data.get_gt_labels().tolist()
    assert data.get_data_info(0)['index'] == data.indices[0]
    assert data.metainfo['classes'] == ('a', 'b', 'c', 'd')
    backward = TestAgnosticDataset(_Balanced(), 'backward', 5, class_stats=train)
    np.testing.assert_array_equal(backward.class_counts, [profile[1], profile[3], profile[2], profile[0]])
    assert len(TestAgnosticDataset(_Balanced(), 'uniform')) == 24


def test_split_errors():
    with pytest.raises(ValueError, match='class 2 has 5 images'):
        TestAgnosticDataset(_Balanced([0] * 6 + [1] * 6 + [2] * 5 + [3] * 6), 'forward', 2)
    with pytest.raises(ValueError, match='imbalance_ratio .* must be one of .*got 7'):
        TestAgnosticDataset(_Balanced(), 'forward', 7)
    with pytest.raises(ValueError, match='uniform test distribution has imbalance_ratio 1, got 10'):
        TestAgnosticDataset(_Balanced(), 'uniform', 10)
    with pytest.raises(ValueError, match="distribution must be one of .*'sideways'"):
        TestAgnosticDataset(_Balanced(), 'sideways', 2)
    with pytest.raises(ValueError, match='4 classes but class_stats has 3'):
        TestAgnosticDataset(_Balanced(), 'forward', 2, class_stats=stats([3, 2, 1]))
    with pytest.raises(ValueError, match='forward<ratio>'):
        parse_split_name('forward')
    assert split_names((2, 50)) == ['forward50', 'forward2', 'uniform', 'backward2', 'backward50']
    assert parse_split_name('backward25') == ('backward', 25)


def test_split_file_pattern_replaces_the_annotation_file():
    dataset = dict(type='ImageNetLTDataset', data_root='data/imagenet/', ann_file='x.txt', split='test')
    cfg = agnostic_dataset_cfg(dataset, 'forward50', split_file='data_txt/ImageNet_LT_{split}.txt')
    assert cfg['ann_file'] == 'data_txt/ImageNet_LT_forward50.txt' and cfg['verify'] is False
    drawn = agnostic_dataset_cfg(dataset, 'backward2', stats([1, 2]))
    assert drawn['type'] == 'TestAgnosticDataset' and drawn['imbalance_ratio'] == 2
    with pytest.raises(ValueError, match='{split}'):
        agnostic_dataset_cfg(dataset, 'uniform', split_file='fixed.txt')


# --------------------------------------------------------------------------------- test-time aggregation

def test_stability_objective_by_hand():
    """Two experts, two classes, one image: view 0 is expert 0's logits (2, 0), view 1 expert 1's; with weights
    (a, 1 - a) the views predict softmax(2a, 0) and softmax(2(1 - a), 0)."""
    view0 = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    view1 = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])
    w = torch.tensor([0.3, -0.2])
    a = math.exp(0.3) / (math.exp(0.3) + math.exp(-0.2))

    def prob(z):
        p = 1 / (1 + math.exp(-z))
        return np.array([p, 1 - p])
    p0, p1 = prob(2 * a), prob(2 * (1 - a))
    cos = p0 @ p1 / (np.linalg.norm(p0) * np.linalg.norm(p1))
    assert float(sade_stability_loss(w, view0, view1)) == pytest.approx(-cos, rel=1e-6)
    # equal weights give equal views: perfectly stable
    assert float(sade_stability_loss(torch.zeros(2), view0, view1)) == pytest.approx(-1.0, abs=1e-6)


def _batches(seed, unstable_expert=None, scale=3.0, num=3):
    gen = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(num):
        base = torch.randn(8, 3, 5, generator=gen) * scale
        noise = torch.randn(8, 3, 5, generator=gen) * 0.3
        view1 = base + noise
        if unstable_expert is not None:  # this expert disagrees with itself across the views
            view1[:, unstable_expert] = torch.randn(8, 5, generator=gen) * scale * 3
        batches.append((base, view1))
    return batches


@pytest.mark.parametrize('lr,weight_decay', [(0.025, 5e-4), (0.1, 5e-4)])
def test_aggregation_matches_the_official_loop(lr, weight_decay):
    batches = _batches(0)
    expected, epochs_run = official_aggregation(batches, 5, lr, weight_decay)
    result = learn_expert_weights(lambda: iter(batches), 3, 5, dict(type='SGD', lr=lr, momentum=0.9, nesterov=True,
                                                                     weight_decay=weight_decay))
    torch.testing.assert_close(torch.tensor(result.weights), expected, rtol=1e-5, atol=1e-7)
    assert result.epochs_run == epochs_run == 5 and not result.stopped_early
    assert len(result.epoch_losses) == 5 and all(-1.0 <= v <= 0.0 for v in result.epoch_losses)


def test_aggregation_downweights_an_unstable_expert_and_stops_early():
    batches = _batches(1, unstable_expert=2, num=4)
    optimizer = dict(type='SGD', lr=200.0, momentum=0.9, nesterov=True, weight_decay=5e-4)
    expected, epochs_run = official_aggregation(batches, 5, 200.0, 5e-4)
    result = learn_expert_weights(lambda: iter(batches), 3, 5, optimizer)
    assert result.stopped_early and result.epochs_run == epochs_run < 5
    torch.testing.assert_close(torch.tensor(result.weights), expected, rtol=1e-5, atol=1e-7)
    assert np.round(result.weights[2], 2) < 0.05 and result.weights[2] == min(result.weights)
    # the returned weights are the unrounded softmax, as the official evaluation uses them
    assert result.weights == pytest.approx(result.epoch_weights[-1])
    # with the threshold at 0, no early stop: all epochs run
    assert learn_expert_weights(lambda: iter(batches), 3, 2, optimizer, min_weight=0.0).epochs_run == 2


def test_aggregation_errors():
    with pytest.raises(ValueError, match='no images'):
        learn_expert_weights(lambda: iter([]), 3, 1)
    with pytest.raises(ValueError, match=r'\(N, 3, C\)'):
        learn_expert_weights(lambda: iter([(torch.zeros(2, 2, 4), torch.zeros(2, 2, 4))]), 3, 1)
    with pytest.raises(ValueError, match='torch.optim'):
        learn_expert_weights(lambda: iter(_batches(0)), 3, 1, dict(type='NoSuchOptimizer', lr=0.1))
    with pytest.raises(ValueError, match='different shapes'):
        sade_stability_loss(torch.zeros(3), torch.zeros(1, 3, 4), torch.zeros(2, 3, 4))


# ------------------------------------------------------------------------- weights file and the test path

def test_weights_file_round_trip_and_errors(tmp_path):
    path = save_expert_weights(tmp_path / 'w' / 'weights.json', [0.2, 0.5, 0.3], split='forward50')
    torch.testing.assert_close(load_expert_weights(path, 3), torch.tensor([0.2, 0.5, 0.3]))
    torch.testing.assert_close(load_expert_weights([1, 1, 2], 3), torch.tensor([0.25, 0.25, 0.5]))
    assert load_expert_weights(None, 3) is None
    with pytest.raises(FileNotFoundError, match='sade_aggregate'):
        load_expert_weights(tmp_path / 'missing.json', 3)
    with pytest.raises(ValueError, match='2 values for num_experts=3'):
        load_expert_weights([0.5, 0.5], 3)
    with pytest.raises(ValueError, match='>= 0'):
        load_expert_weights([0.5, -0.1, 0.6], 3)
    (tmp_path / 'bad.json').write_text('{weights')
    with pytest.raises(ValueError, match='not JSON'):
        load_expert_weights(tmp_path / 'bad.json', 3)
    head = dict(type='MultiExpertClsHead', num_classes=5, in_channels=8,
                loss=dict(type='SADELoss', class_stats=stats(COUNTS)))
    with pytest.raises(ValueError, match='not combined with a router'):
        MODELS.build(dict(head, fusion=dict(type='weighted'), router=dict(top_k=2)))
    with pytest.raises(ValueError, match='takes only weights'):
        MODELS.build(dict(head, fusion=dict(type='weighted', eta=0.2)))


def test_the_test_path_reads_the_weights_file(tmp_path):
    """tools/test.py CONFIG CKPT --cfg-options model.head.fusion.weights=FILE: the head predicts sum_k a_k z_k with
    the file's weights; a checkpoint neither stores nor overrides them."""
    path = save_expert_weights(tmp_path / 'weights.json', [0.6, 0.3, 0.1])
    cfg = Config.fromfile(SADE_DIGITS)
    cfg.merge_from_dict({'model.head.fusion.weights': str(path)})
    cfg.model.head.loss.class_stats = stats([120, 80, 50, 30, 20, 12, 8, 5, 4, 3])  # no data on disk here
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    assert 'head.expert_weights' not in model.state_dict()
    plain = MODELS.build(dict(cfg.model, head=dict(cfg.model.head, fusion=dict(type='weighted', weights=None))))
    model.load_state_dict(plain.state_dict())  # a checkpoint trained with the mean
    torch.testing.assert_close(model.head.expert_weights, torch.tensor([0.6, 0.3, 0.1]))
    images = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        feats = model.extract_feat(images)
        experts = model.head.forward_experts(feats)
        predictions = model.head.predict(feats)
    expected = 0.6 * experts[:, 0] + 0.3 * experts[:, 1] + 0.1 * experts[:, 2]
    torch.testing.assert_close(model.head(feats), expected)
    torch.testing.assert_close(torch.stack([p.pred_score for p in predictions]), F.softmax(expected, dim=1))


# ------------------------------------------------------------------------- LADE on the test-agnostic splits

def test_lade_target_prior_from_a_split(cls_workspace, tmp_path, monkeypatch):
    """tools/analysis/test_agnostic.py --target-prior: each split's class frequencies become the LADE head's
    target prior, so its prediction is argmax(f(x) + log pi_t)."""
    from mmengine.runner import Runner

    from ltmm.engine import build_classifier

    monkeypatch.chdir(cls_workspace)
    tool = load_tool()
    cfg = Config.fromfile(LADE_DIGITS)
    cfg.test_dataloader.num_workers, cfg.test_dataloader.persistent_workers = 0, False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'lade.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    records = tool.test_agnostic(cfg, str(ckpt), ['backward5'], target_prior=True, out_dir=str(tmp_path))
    record = records['backward5']
    counts = np.array(record['class_counts'])
    np.testing.assert_array_equal(counts, agnostic_counts(40, 10, 'backward', 5, frequency_rank(
        load_class_stats('data/digits_lt/meta/train.txt').image_count)))
    # the same split, tested with a uniform prior, then shifted by hand
    split = agnostic_dataset_cfg(cfg.test_dataloader.dataset, 'backward5', cfg.test_evaluator.class_stats)
    loader = Runner.build_dataloader(dict(cfg.test_dataloader, dataset=split))
    uniform = build_classifier(cfg, str(ckpt))
    log_prior = torch.log(torch.tensor(counts / counts.sum(), dtype=torch.float32))
    correct = total = 0
    with torch.no_grad():
        for data in loader:
            for sample in uniform.test_step(data):
                pred = int((torch.log(sample.pred_score) + log_prior).argmax())
                correct += pred == int(sample.gt_label)
                total += 1
    assert total == record['num_images'] == counts.sum()
    assert record['metrics']['top1'] == pytest.approx(100.0 * correct / total)
    with pytest.raises(ValueError, match='--target-prior needs a head with a target_prior'):
        tool.test_agnostic(Config.fromfile(SADE_DIGITS), str(ckpt), ['uniform'], target_prior=True)
    assert tool.split_target_prior([3, 0, 1])[1] == 1e-9


@pytest.mark.slow
def test_tools_name_a_missing_checkpoint_or_config(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    for name, extra in (('sade_aggregate.py', []), ('analysis/test_agnostic.py', ['--aggregate'])):
        cmd = [sys.executable, str(REPO / 'tools' / name), SADE_DIGITS, str(tmp_path / 'none.pth'), *extra]
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode != 0 and "checkpoint '" in proc.stderr and 'none.pth' in proc.stderr, proc.stderr
        (tmp_path / 'x.pth').write_bytes(b'')
        cmd[2:4] = [str(tmp_path / 'missing.py'), str(tmp_path / 'x.pth')]
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode != 0 and 'missing.py' in proc.stderr and 'does not exist' in proc.stderr, proc.stderr


# ----------------------------------------------------------------------------------- Digits-LT CPU smoke

@pytest.mark.slow
def test_digits_lt_trains_aggregates_and_evaluates(cls_workspace, tmp_path, monkeypatch):
    """Two training iterations of the SADE Digits-LT config; the test-time aggregation for a few steps on the
    forward50 split (106 images, batches of 32, 2 epochs); then that split evaluated with the learned weights through
    the test-agnostic tool, and through tools/test.py's Runner with the weights file."""
    from ltmm.engine import build_runner

    monkeypatch.chdir(cls_workspace)
    torch.set_num_threads(1)
    loss, metrics, runner = train_two_iterations(SADE_DIGITS, tmp_path / 'train')
    assert math.isfinite(loss) and 0.0 <= metrics['shot/all'] <= 100.0
    assert type(runner.model.head.loss_module).__name__ == 'SADELoss'
    ckpt = tmp_path / 'sade.pth'
    torch.save(dict(state_dict=runner.model.state_dict()), ckpt)

    tool = load_tool()
    cfg = Config.fromfile(SADE_DIGITS)
    cfg.merge_from_dict({'test_time_aggregation.batch_size': 32, 'test_time_aggregation.epochs': 2,
                         'test_dataloader.num_workers': 0, 'test_dataloader.persistent_workers': False})
    records = tool.test_agnostic(cfg, str(ckpt), ['forward50'], aggregate_weights=True, out_dir=str(tmp_path / 'ta'))
    record = records['forward50']
    assert record['num_images'] == 106 and record['epochs_run'] in (1, 2)
    assert sum(record['expert_weights']) == pytest.approx(1.0)
    saved = json.loads((tmp_path / 'ta' / 'weights' / 'forward50.json').read_text())
    assert saved['weights'] == record['expert_weights'] and len(saved['epoch_losses']) == record['epochs_run']
    assert 0.0 <= record['metrics']['top1'] <= 100.0
    table = tool.markdown(records, 'sade')
    assert '| forward50 | 106 |' in table

    test_cfg = Config.fromfile(SADE_DIGITS)
    test_cfg.merge_from_dict({'model.head.fusion.weights': record['weights_file'], 'test_dataloader.num_workers': 0,
                              'test_dataloader.persistent_workers': False})
    test_cfg.test_dataloader.dataset = agnostic_dataset_cfg(test_cfg.test_dataloader.dataset, 'forward50',
                                                            test_cfg.test_evaluator.class_stats)
    test_cfg.launcher, test_cfg.work_dir, test_cfg.load_from = 'none', str(tmp_path / 'test'), str(ckpt)
    tester = build_runner(test_cfg)
    result = tester.test()
    torch.testing.assert_close(tester.model.head.expert_weights, torch.tensor(record['expert_weights']))
    assert result['shot/top1'] == pytest.approx(record['metrics']['top1'])
