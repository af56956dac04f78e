"""BalPoE: the loss against a naive transcription of the official BSExpertLoss (value and gradient) for the CIFAR,
ImageNet-LT and iNaturalist tau lists (negative, zero and positive priors), a two-class case by hand, the mixup path
(soft targets equal the official Combiner.mixup loss; the config's batch augment is the official mixup), the
test-time lambda / known test prior against the official adjusted_model_wrapper, no state through a checkpoint,
errors, the Digits-LT CPU smoke and a 2-process gloo training of the Digits-LT config (tools/dist_train.sh)."""
import importlib.util
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.losses.balpoe_loss import balpoe_logit_adjustments, balpoe_prediction_bias

from ..helpers import REPO, free_port, run, tool
from .digits_lt_smoke import train_two_iterations

COUNTS = [200, 60, 20, 6, 2]
TAU_LISTS = [(0.0, 1.0, 2.0), (0.0, 1.25, 2.5), (-1.0, 1.0, 3.0)]  # CIFAR, ImageNet-LT, iNaturalist 2018
DIGITS = str(REPO / 'configs/balpoe/balpoe_resnet32_1xb32_digits-lt_30e.py')


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(counts=COUNTS, **kw):
    return MODELS.build(dict(type='BalPoELoss', class_stats=stats(counts), **kw))


def build_head(counts=COUNTS, tau_list=(0.0, 1.0, 2.0), **loss_kw):
    return MODELS.build(dict(type='MultiExpertClsHead', num_classes=len(counts), in_channels=8,
                             num_experts=len(tau_list),
                             loss=dict(type='BalPoELoss', class_stats=stats(counts), tau_list=list(tau_list),
                                       **loss_kw)))


# ------------------------------------------------------------------ naive transcriptions of the official code

def official_loss(expert_logits, target, cls_num_list, tau_list, eps=1e-9):
    """model/loss.py BSExpertLoss.forward with extra_info['logits'] = the experts' logits (K, N, C)."""
    prior = torch.tensor(cls_num_list).float()
    prior = prior / prior.sum()
    loss = 0.0
    for idx, tau in enumerate(tau_list):
        loss = loss + F.cross_entropy(expert_logits[idx] + tau * torch.log(prior + eps), target)
    return loss / len(tau_list)


def official_mixup_loss(expert_logits, label, idx, lam, cls_num_list, tau_list):
    """utils/combiner.py Combiner.mixup: the loss of the mixed images' logits for both label sets, mixed by lambda."""
    loss_a = official_loss(expert_logits, label, cls_num_list, tau_list)
    loss_b = official_loss(expert_logits, label[idx], cls_num_list, tau_list)
    return lam * loss_a + (1 - lam) * loss_b


def official_prediction(expert_logits_nkc, test_counts=None):
    """utils/util.py adjusted_model_wrapper with test_all_*.py's posthoc test_bias (None without the flag)."""
    logits = expert_logits_nkc
    if test_counts is not None:
        test_prior = torch.tensor(test_counts).float()
        test_prior = test_prior / test_prior.sum()
        logits = logits + test_prior.log()
    return logits.mean(dim=1)


def expert_logits(n=12, k=3, c=5, seed=0, scale=10.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, c, generator=g, dtype=torch.float64).float() * scale


def labels(n=12, c=5, seed=0):
    return torch.randint(c, (n, ), generator=torch.Generator().manual_seed(seed + 100))


# --------------------------------------------------------------------------------------------------- the loss

@pytest.mark.parametrize('tau_list', TAU_LISTS)
@pytest.mark.parametrize('seed', [0, 1])
def test_loss_matches_the_official_value_and_gradient(tau_list, seed):
    logits, target = expert_logits(seed=seed), labels(seed=seed)
    ours_in = logits.clone().requires_grad_(True)
    ref_in = logits.clone().requires_grad_(True)
    ours = build(tau_list=list(tau_list))(ours_in, target)
    ref = official_loss(ref_in.transpose(0, 1), target, COUNTS, tau_list)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours_in.grad, ref_in.grad)


@pytest.mark.parametrize('tau_list', TAU_LISTS)
def test_each_expert_has_its_own_prior_with_its_sign(tau_list):
    adjustments = balpoe_logit_adjustments(COUNTS, tau_list)
    log_prior = torch.log(torch.tensor(COUNTS).float() / sum(COUNTS) + 1e-9)
    for k, tau in enumerate(tau_list):
        torch.testing.assert_close(adjustments[k], tau * log_prior)
        if tau > 0:  # a balanced / inverse expert: the rarest class gets the most negative adjustment
            assert adjustments[k].argmin() == len(COUNTS) - 1 and (adjustments[k] < 0).all()
        elif tau < 0:  # iNaturalist's tau -1: head-favouring in training, the rarest class gets the most positive
            assert adjustments[k].argmax() == len(COUNTS) - 1 and (adjustments[k] > 0).all()
        else:
            assert (adjustments[k] == 0).all()
    # the loss is each expert's loss alone, averaged
    logits, target = expert_logits(), labels()
    per_expert = [build(tau_list=[tau])(logits[:, k:k + 1], target) for k, tau in enumerate(tau_list)]
    torch.testing.assert_close(build(tau_list=list(tau_list))(logits, target), sum(per_expert) / len(tau_list))


def test_two_classes_by_hand():
    """Counts (3, 1): pi = (3/4, 1/4). Zero logits, label 1. Expert tau 0: CE = log 2. Expert tau 1: logits
    (log 3/4, log 1/4), CE = -log(1/4) = log 4. Expert tau 2: logits (2 log 3/4, 2 log 1/4), CE = log(1 + 9) = log 10.
    Mean of the three: (log 2 + log 4 + log 10) / 3 = log(80) / 3."""
    loss = build(counts=[3, 1], tau_list=[0, 1, 2])(torch.zeros(1, 3, 2), torch.tensor([1]))
    assert loss.item() == pytest.approx(math.log(80) / 3, rel=1e-6)
    # label 0: log 2, -log(3/4), log(1 + 1/9)
    loss = build(counts=[3, 1], tau_list=[0, 1, 2])(torch.zeros(1, 3, 2), torch.tensor([0]))
    assert loss.item() == pytest.approx((math.log(2) + math.log(4 / 3) + math.log(10 / 9)) / 3, rel=1e-6)


def test_zero_count_absent_class_and_reductions():
    counts = [50, 10, 0, 3, 1]  # a class without training images: log(0 + 1e-9), as the official
    logits, target = expert_logits(), labels()
    target[target == 2] = 0  # class 2 absent from the batch
    loss = build(counts=counts)
    torch.testing.assert_close(loss(logits, target), official_loss(logits.transpose(0, 1), target, counts, (0, 1, 2)))
    per_sample = loss(logits, target, reduction_override='none')
    assert per_sample.shape == (12, )
    torch.testing.assert_close(loss(logits, target, reduction_override='sum'), per_sample.sum())
    weight = torch.rand(12)
    torch.testing.assert_close(loss(logits, target, weight=weight, avg_factor=12), (per_sample * weight).sum() / 12)


def test_low_precision_logits_are_computed_in_float32():
    logits, target = expert_logits(), labels()
    out = build()(logits.half(), target)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, build()(logits.half().float(), target))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r'has 3 taus.*\(12, 2, 5\)'):
        build()(torch.zeros(12, 2, 5), labels())
    with pytest.raises(ValueError, match='at least one finite tau'):
        build(tau_list=[])
    with pytest.raises(ValueError, match='at least one finite tau'):
        build(tau_list=[0.0, float('nan')])
    with pytest.raises(ValueError, match='list of numbers'):
        build(tau_list=['a'])
    with pytest.raises(ValueError, match='test_tau must be finite'):
        build(test_tau=float('inf'))
    with pytest.raises(ValueError, match='test_prior has 3 values for 5 classes'):
        build(test_prior=[1, 2, 3])
    with pytest.raises(ValueError, match=r'test_prior must be finite, >= 0.*-1'):
        build(test_prior=[1, 2, 3, 4, -1])
    with pytest.raises(ValueError, match='no training image'):
        build(counts=[0, 0, 0])
    with pytest.raises(ValueError, match='5 classes'):
        MODELS.build(dict(type='BalPoELoss', class_stats=stats(COUNTS), num_classes=4))
    with pytest.raises(ValueError, match=r'shape \(12, 5\)'):
        build()(torch.zeros(12, 5), labels())


# ---------------------------------------------------------------------------------------------------- mixup

def test_soft_targets_give_the_official_mixup_loss():
    logits, label = expert_logits(), labels()
    idx, lam = torch.randperm(12, generator=torch.Generator().manual_seed(3)), 0.37
    one_hot = F.one_hot(label, 5).float()
    mixed = lam * one_hot + (1 - lam) * one_hot[idx]  # mmpretrain's Mixup.mix of the one-hot scores
    ours_in, ref_in = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    ours = build()(ours_in, mixed)
    ref = official_mixup_loss(ref_in.transpose(0, 1), label, idx, lam, COUNTS, (0, 1, 2))
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours_in.grad, ref_in.grad)


def test_head_takes_mixed_targets_and_only_for_losses_that_accept_them():
    head = build_head()
    feats = (torch.randn(6, 24), )
    label = torch.tensor([0, 1, 2, 3, 4, 0])
    scores = 0.7 * F.one_hot(label, 5).float() + 0.3 * F.one_hot(label.flip(0), 5).float()
    samples = [DataSample().set_gt_label(int(y)).set_gt_score(s) for y, s in zip(label, scores)]
    torch.testing.assert_close(head.loss(feats, samples)['loss'], head.loss_module(head.forward_experts(feats), scores))

    sade = MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=8, num_experts=3,
                             loss=dict(type='SADELoss', class_stats=stats(COUNTS))))
    with pytest.raises(ValueError, match='SADELoss needs hard labels'):
        sade.loss(feats, samples)
    with pytest.raises(ValueError, match='cal_acc is pointless'):
        MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=8, num_experts=3, cal_acc=True,
                          loss=dict(type='BalPoELoss', class_stats=stats(COUNTS)))).loss(feats, samples)
    hard = [DataSample().set_gt_label(int(y)) for y in label]
    losses = MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=8, num_experts=3, cal_acc=True,
                               loss=dict(type='BalPoELoss', class_stats=stats(COUNTS)))).loss(feats, hard)
    assert 'accuracy_top-1' in losses


def digits_model(**loss_kw):
    cfg = Config.fromfile(DIGITS)
    cfg.model.head.loss.class_stats = stats([100, 60, 40, 30, 20, 12, 8, 5, 3, 2])
    cfg.model.head.loss.update(loss_kw)
    cfg.model.data_preprocessor = cfg.data_preprocessor
    return MODELS.build(cfg.model)


def test_the_config_batch_mixup_is_the_official_combiner():
    """The Digits-LT config's model (mmpretrain Mixup alpha 0.4 in model.train_cfg): one lambda ~ Beta(0.4, 0.4)
    from NumPy's global generator and one torch.randperm per batch, both drawn in the official order; the images
    mixed after normalisation (the official loader normalises before the combiner); the loss equals the official
    lambda L(y_a) + (1 - lambda) L(y_b) on the mixed images' expert logits."""
    torch.manual_seed(0)
    model = digits_model().train()
    label = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    images = [torch.randint(0, 256, (1, 32, 32), dtype=torch.uint8) for _ in label]
    batch = dict(inputs=images, data_samples=[DataSample().set_gt_label(int(y)) for y in label])

    np.random.seed(5)
    torch.manual_seed(5)
    data = model.data_preprocessor(batch, training=True)
    np.random.seed(5)
    torch.manual_seed(5)
    lam = np.random.beta(0.4, 0.4)
    idx = torch.randperm(len(label))
    x = (torch.stack(images).float() - 127.5) / 127.5
    torch.testing.assert_close(data['inputs'], lam * x + (1 - lam) * x[idx])

    loss = model(**data, mode='loss')['loss']
    logits = model.head.forward_experts(model.extract_feat(data['inputs']))  # train-mode BN: batch statistics
    ref = official_mixup_loss(logits.transpose(0, 1), label, idx, lam, model.head.loss_module.stats.image_count,
                              (0, 1, 2))
    torch.testing.assert_close(loss, ref)


# ------------------------------------------------------------------------------------- test-time lambda / prior

def test_prediction_is_the_mean_of_the_raw_expert_logits_by_default():
    head = build_head(tau_list=(0.0, 1.25, 2.5))
    feats = (torch.randn(6, 24), )
    assert head.loss_module.prediction_bias is None
    torch.testing.assert_close(head(feats), official_prediction(head.forward_experts(feats)))


def test_known_test_prior_is_the_official_posthoc_correction():
    test_counts = [2, 5, 20, 60, 100]  # a backward-LT test distribution
    head = build_head(test_prior=test_counts)
    feats = (torch.randn(6, 24), )
    expected = official_prediction(head.forward_experts(feats), test_counts)
    torch.testing.assert_close(head(feats), expected)
    scores = torch.stack([s.pred_score for s in head.predict(feats)])
    torch.testing.assert_close(scores, F.softmax(expected, dim=1))
    # the same distribution as probabilities, and as class statistics
    for test_prior in ([c / 187 for c in test_counts], stats(test_counts)):
        other = build_head(test_prior=test_prior)
        other.load_state_dict(head.state_dict())
        torch.testing.assert_close(other(feats), expected)
    # a class absent from the test distribution: log 0 = -inf, as the official, never predicted
    absent = build_head(test_prior=[0, 1, 1, 1, 1])
    assert torch.isinf(absent(feats)[:, 0]).all() and (absent(feats).argmax(dim=1) != 0).all()


@pytest.mark.parametrize('tau_list', TAU_LISTS)
def test_test_tau_moves_the_prior_exponent(tau_list):
    """Expert k's raw logits carry (1 - tau_k) log pi, their mean (1 - mean tau) log pi; test_tau t replaces that by
    (1 - t) log pi: the bias is (mean tau - t) log(pi + 1e-9). t = mean tau adds nothing (the official prediction)."""
    feats = (torch.randn(6, 24), )
    log_prior = torch.log(torch.tensor(COUNTS).float() / sum(COUNTS) + 1e-9)
    mean_tau = sum(tau_list) / len(tau_list)
    for test_tau in (0.0, 1.0, 2.0, mean_tau):
        head = build_head(tau_list=tau_list, test_tau=test_tau)
        raw = head.forward_experts(feats).mean(dim=1)
        torch.testing.assert_close(head(feats), raw + (mean_tau - test_tau) * log_prior)
    # on ImageNet-LT (mean 1.25) test_tau = 1 gives the balanced prediction; with a known test prior it adds up
    bias = balpoe_prediction_bias(COUNTS, tau_list, test_tau=1.0, test_prior=np.array(COUNTS, dtype=float))
    torch.testing.assert_close(bias, (mean_tau - 1.0) * log_prior + torch.log(torch.tensor(COUNTS).float() / 288))


def test_training_accuracy_uses_the_raw_mean():
    head = MODELS.build(dict(type='MultiExpertClsHead', num_classes=5, in_channels=8, num_experts=3, cal_acc=True,
                             loss=dict(type='BalPoELoss', class_stats=stats(COUNTS), test_prior=[100, 1, 1, 1, 1])))
    feats = (torch.randn(40, 24), )
    label = torch.randint(5, (40, ))
    acc = head.loss(feats, [DataSample().set_gt_label(int(y)) for y in label])['accuracy_top-1']
    raw = head.forward_experts(feats).mean(dim=1)
    assert float(acc[0]) == pytest.approx((raw.argmax(dim=1) == label).float().mean().item() * 100)


def test_no_state_in_checkpoints_so_the_test_setting_can_change():
    head = build_head(tau_list=(0.0, 1.25, 2.5))
    assert head.loss_module.state_dict() == {}
    state = head.state_dict()
    assert not any(key.startswith('loss_module') for key in state)
    restored = build_head(tau_list=(0.0, 1.25, 2.5), test_tau=1.0)
    restored.load_state_dict(state)
    feats = (torch.randn(6, 24), )
    logits, target = head.forward_experts(feats), torch.tensor([0, 1, 2, 3, 4, 0])
    torch.testing.assert_close(restored.loss_module(logits, target), head.loss_module(logits, target))
    log_prior = torch.log(torch.tensor(COUNTS).float() / sum(COUNTS) + 1e-9)
    torch.testing.assert_close(restored(feats), head(feats) + 0.25 * log_prior)


def load_tool():
    spec = importlib.util.spec_from_file_location('test_agnostic_tool', REPO / 'tools/analysis/test_agnostic.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_agnostic_target_prior_is_the_official_test_all(cls_workspace, tmp_path, monkeypatch):
    """tools/analysis/test_agnostic.py --target-prior on a BalPoE config: each split's class counts become
    model.head.loss.test_prior, so the prediction is argmax(mean_k z_k + log pi_t), the official test_all_cifar.py
    --posthoc_bias_correction."""
    from mmengine.runner import Runner

    from ltmm.cls.datasets.agnostic_lt import agnostic_dataset_cfg
    from ltmm.engine import build_classifier

    monkeypatch.chdir(cls_workspace)
    tool = load_tool()
    cfg = Config.fromfile(DIGITS)
    cfg.test_dataloader.num_workers, cfg.test_dataloader.persistent_workers = 0, False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'balpoe.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    record = tool.test_agnostic(cfg, str(ckpt), ['backward5'], target_prior=True, out_dir=str(tmp_path))['backward5']
    counts = np.array(record['class_counts'])
    assert counts.min() > 0 and counts.max() > counts.min()
    split = agnostic_dataset_cfg(cfg.test_dataloader.dataset, 'backward5', cfg.test_evaluator.class_stats)
    loader = Runner.build_dataloader(dict(cfg.test_dataloader, dataset=split))
    plain = build_classifier(cfg, str(ckpt))
    correct = total = 0
    with torch.no_grad():
        for data in loader:
            data = plain.data_preprocessor(data, False)
            feats = plain.extract_feat(data['inputs'])
            logits = official_prediction(plain.head.forward_experts(feats), counts.tolist())
            correct += int((logits.argmax(dim=1) == torch.cat([s.gt_label for s in data['data_samples']])).sum())
            total += logits.size(0)
    assert total == record['num_images'] == counts.sum()
    assert record['metrics']['top1'] == pytest.approx(100.0 * correct / total)


# ----------------------------------------------------------------------------------------- Digits-LT on CPU

@pytest.mark.slow
def test_digits_lt_config_trains_and_evaluates(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    torch.set_num_threads(1)
    loss, metrics, runner = train_two_iterations(DIGITS, tmp_path / 'train')
    assert math.isfinite(loss) and 0.0 <= metrics['shot/all'] <= 100.0
    assert type(runner.model.head.loss_module).__name__ == 'BalPoELoss'
    assert type(runner.model.data_preprocessor.batch_augments.augments[0]).__name__ == 'Mixup'
    # the test-time lambda set from the command line
    _, balanced, _ = train_two_iterations(DIGITS, tmp_path / 'tau', {'model.head.loss.test_tau': 1.0})
    assert 0.0 <= balanced['shot/all'] <= 100.0


@pytest.mark.slow
def test_digits_lt_config_trains_on_two_gloo_processes(cls_workspace):
    """tools/dist_train.sh with 2 CPU processes (gloo): DDP of the multi-expert network with per-rank mixup, one
    epoch on 64 images, validation gathered over both ranks."""
    work = cls_workspace / 'balpoe_dist'
    env = {'PYTHON': tool('train.py')[0], 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'}
    out = run(['bash', str(REPO / 'tools/dist_train.sh'), DIGITS, '2', '--work-dir', str(work), '--cfg-options',
               'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'train_dataloader.dataset.indices=64',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
               'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
               'default_hooks.logger.interval=1'], cls_workspace, env=env).stdout
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    losses = [float(v) for v in re.findall(r'\bloss: ([\d.]+)', out)]
    assert losses and all(math.isfinite(v) for v in losses)
    assert re.search(r'shot/many: \d', out)
    assert (work / 'epoch_1.pth').is_file()
