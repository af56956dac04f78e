"""MDCS: MDCSLoss against a naive transcription of the official ``MDCSLoss.forward`` (fistyee/MDCS model/loss.py),
the per-expert priors, confident instance sampling, the epoch schedule (also through a checkpoint), MDCSClassifier's
[weak; strong] batch, the configs, and a CPU smoke of the Digits-LT config."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401  (registers the modules)
from ltmm.cls.losses.mdcs_loss import mdcs_logit_adjustments, mdcs_loss

from ..helpers import REPO
from .digits_lt_smoke import checkpoint_and_resume, train_two_iterations

COUNTS = [200, 60, 20, 6, 2]
CONFIGS = REPO / 'configs/mdcs'
DIGITS = str(CONFIGS / 'mdcs_resnet32_1xb32_digits-lt_30e.py')


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(counts=COUNTS, epoch=None, **kw):
    loss = MODELS.build(dict(type='MDCSLoss', class_stats=stats(counts), **kw))
    if epoch is not None:
        loss.set_epoch(epoch)
    return loss


def naive_mdcs(logits, target, counts, epoch_1based):
    """A line-by-line transcription of the official forward: logits (K, 2B, C) as ``extra_info['logits']``."""
    prior = torch.tensor(counts).float()
    num = target.shape[0] // 2
    loss = 0
    kl_loss = 0
    for k, lam in enumerate((-0.5, 1, 2.5)):
        expert = logits[k] + torch.log(torch.pow(prior, lam) + 1e-9)
        teacher = F.softmax(expert[:num] / 1, dim=1).detach()
        student = F.log_softmax(expert[num:] / 1, dim=1)
        _, index = torch.max(F.softmax(expert[:num], dim=1).detach(), dim=1)
        mask = index == target[:num]
        if torch.sum(mask) > 0:
            kl_loss = kl_loss + F.kl_div(student[mask], teacher[mask], reduction='batchmean') * 1 ** 2
    loss = loss + 0.6 * kl_loss * min(epoch_1based / 20, 1.0)
    for k, lam in enumerate((-0.5, 1, 2.5)):
        loss = loss + F.cross_entropy(logits[k] + torch.log(torch.pow(prior, lam) + 1e-9), target)
    return loss


def batch(b=6, c=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = (torch.randn(2 * b, 3, c, generator=gen) * 3).requires_grad_()
    label = torch.randint(c, (b, ), generator=gen).repeat(2)
    return logits, label


@pytest.mark.parametrize('epoch', [0, 4, 19, 30])
def test_matches_official_transcription_value_and_gradient(epoch):
    logits, label = batch()
    ours = build(epoch=epoch)(logits, label)
    (grad, ) = torch.autograd.grad(ours, logits)
    ref_logits = logits.detach().clone().requires_grad_()
    ref = naive_mdcs(ref_logits.transpose(0, 1), label, COUNTS, epoch + 1)
    (ref_grad, ) = torch.autograd.grad(ref, ref_logits)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)
    torch.testing.assert_close(grad, ref_grad)


def test_per_expert_priors_and_signs():
    adj = mdcs_logit_adjustments(COUNTS)
    n = torch.tensor(COUNTS, dtype=torch.float32)
    torch.testing.assert_close(adj, torch.stack([-0.5 * n.log(), n.log(), 2.5 * n.log()]), rtol=1e-5, atol=1e-5)
    # head expert: shift grows towards the tail (favours... the loss pushes it to the head); tail expert the reverse
    assert (adj[0].diff() > 0).all() and (adj[1].diff() < 0).all() and (adj[2].diff() < 0).all()
    # a class absent from the batch still gets its shift; lambdas are configurable
    torch.testing.assert_close(build(lambdas=(0.0, 2.0)).adjustments[0], torch.zeros(5), atol=1e-6, rtol=0)


def test_cis_excludes_wrong_weak_predictions():
    """Hand case: one expert, two classes of equal counts (no shift), two images. Image 0's weak view is classified
    correctly, image 1's is not: the distillation is image 0's KL alone (batchmean over one row)."""
    weak = torch.tensor([[2.0, 0.0], [1.0, 0.0]])
    strong = torch.tensor([[0.0, 1.0], [0.0, 3.0]])
    logits = torch.cat([weak, strong]).unsqueeze(1)
    label = torch.tensor([0, 1, 0, 1])
    adj = torch.zeros(1, 2)
    _, distill = mdcs_loss(logits, label, adj)
    p = F.softmax(weak[0], 0)
    q = F.softmax(strong[0], 0)
    assert distill.item() == pytest.approx(float((p * (p / q).log()).sum()), rel=1e-6)
    # both weak views predict class 0, both labels are 1: no distillation term
    _, none = mdcs_loss(logits, torch.tensor([1, 1, 1, 1]), adj)
    assert none.item() == 0.0


def test_strong_view_gets_the_gradient_and_teacher_is_detached():
    logits, label = batch()
    label[:6] = logits[:6, 0].argmax(1).detach()  # expert 0 confident on every image
    label[6:] = label[:6]
    _, distill = mdcs_loss(logits, label, mdcs_logit_adjustments(COUNTS))
    (grad, ) = torch.autograd.grad(distill, logits)
    assert grad[:6].abs().sum() == 0 and grad[6:].abs().sum() > 0


def test_weight_schedule_by_epoch_and_through_checkpoint():
    loss = build()
    with pytest.raises(RuntimeError, match='LossEpochHook'):
        _ = loss.cs_factor
    for epoch, weight in [(0, 0.03), (9, 0.3), (18, 0.57), (19, 0.6), (199, 0.6)]:
        loss.set_epoch(epoch)
        assert loss.cs_factor == pytest.approx(weight)
    loss.set_epoch(9)
    restored = build()
    restored.load_state_dict(loss.state_dict())
    assert int(restored.epoch) == 9 and restored.cs_factor == pytest.approx(0.3)
    # epoch 0 is the first epoch: 0.03 of the distillation counted
    logits, label = batch()
    div, dis = mdcs_loss(logits, label, mdcs_logit_adjustments(COUNTS))
    assert build(epoch=0)(logits, label).item() == pytest.approx((div + 0.03 * dis).item(), rel=1e-6)


def test_bad_input_errors():
    with pytest.raises(ValueError, match='class index 1 has no training image'):
        build(counts=[5, 0, 3])
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(dict(type='MDCSLoss', class_stats=stats(COUNTS), num_classes=7))
    loss = build(epoch=0)
    logits, label = batch()
    with pytest.raises(ValueError, match='num_experts=3'):
        loss(logits[:, :2], label)
    with pytest.raises(ValueError, match='2B rows'):
        loss(logits[:5], label[:5])
    with pytest.raises(ValueError, match='labels of the weak'):
        loss(logits, torch.cat([label[:6], (label[:6] + 1) % 5]))
    with pytest.raises(ValueError, match='warmup'):
        build(warmup=0)


def test_classifier_concatenates_weak_then_strong(monkeypatch):
    model = MODELS.build(dict(
        type='MDCSClassifier', backbone=dict(type='RIDEResNet', depth=18, num_experts=3, num_shared_stages=2,
                                             expert_widen_factor=0.25),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='MultiExpertClsHead', num_classes=5, in_channels=128, num_experts=3,
                  loss=dict(type='MDCSLoss', class_stats=stats(COUNTS)))))
    model.head.loss_module.set_epoch(0)
    weak, strong = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in (1, 3)]
    seen = {}
    forward = model.head.loss_module.forward

    def spy(cls_score, label, **kw):
        seen['rows'], seen['label'] = cls_score.size(0), label.tolist()
        return forward(cls_score, label, **kw)

    monkeypatch.setattr(model.head.loss_module, 'forward', spy)
    losses = model.loss([weak, strong], samples)
    assert math.isfinite(losses['loss'].item()) and seen == {'rows': 4, 'label': [1, 3, 1, 3]}
    with pytest.raises(ValueError, match='weak, strong'):
        model.loss([weak], samples)


@pytest.mark.parametrize('name', sorted(p.name for p in CONFIGS.glob('mdcs_*.py')))
def test_configs_build(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.model.type == 'MDCSClassifier' and cfg.model.head.loss.type == 'MDCSLoss'
    assert dict(type='LossEpochHook') in cfg.custom_hooks
    views = cfg.train_dataloader.dataset.pipeline[-2]
    assert views.type == 'MultiView' and views.num_views == [1, 1]


@pytest.mark.slow
def test_digits_lt_trains(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    torch.set_num_threads(1)
    loss, metrics, runner = train_two_iterations(DIGITS, tmp_path / 'train')
    assert math.isfinite(loss) and 0.0 <= metrics['shot/all'] <= 100.0
    assert type(runner.model.head.loss_module).__name__ == 'MDCSLoss'
    assert int(runner.model.head.loss_module.epoch) == 0


@pytest.mark.slow
def test_digits_lt_resume_keeps_the_schedule(cls_workspace, tmp_path, monkeypatch):
    """One epoch (two iterations), a checkpoint, then a resumed run: the checkpoint carries the loss's epoch 0, and
    after the resume LossEpochHook tells the loss the runner's epoch. (``save_checkpoint`` after ``train()`` records
    epoch 2 as the next one, so the resumed run trains 0-indexed epoch 2: CS weight 0.6 * 3 / 20 = 0.09.)"""
    monkeypatch.chdir(cls_workspace)
    torch.set_num_threads(1)
    _, _, runner = train_two_iterations(DIGITS, tmp_path / 'train')
    ckpt, resumed = checkpoint_and_resume(runner, tmp_path)
    assert int(torch.load(ckpt, weights_only=False)['state_dict']['head.loss_module.epoch']) == 0
    loss = resumed.model.head.loss_module
    assert (resumed.epoch, resumed.iter) == (3, 4) and int(loss.epoch) == 2 and loss.cs_factor == pytest.approx(0.09)
