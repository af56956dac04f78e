"""DeiT-LT (``DeiTLTLoss``, ``DeiTLTClsHead``, ``DeiTLTClassifier``) against a naive transcription of the official
``DistillationLoss`` (hard distillation, DRW weights by the teacher's label), the DRW switch through a checkpoint,
the frozen eval-mode teacher, and the Digits-LT config on CPU."""
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.hooks.loss_epoch_hook import LossEpochHook

from ..helpers import REPO
from .test_losses import stats

COUNTS = [50, 20, 5, 1]


def build_loss(**kwargs):
    return MODELS.build(dict(dict(type='DeiTLTLoss', class_stats=stats(COUNTS)), **kwargs))


def naive(cls_score, dist_score, target, teacher, alpha, beta, drw, eps):
    """The official per-sample transcription: soft-target CE on the smoothed targets, weighted hard-label CE."""
    n, c = cls_score.shape
    cb = [(1 - beta) / (1 - beta ** k) for k in COUNTS]
    cb = [w * c / sum(cb) for w in cb] if drw else [1.0] * c
    cls_terms, dist_num, dist_den = [], 0.0, 0.0
    for i in range(n):
        y = target[i] * (1 - eps) + eps / c
        cls_terms.append(-(y * torch.log_softmax(cls_score[i], 0)).sum())
        t = int(teacher[i].argmax())
        dist_num = dist_num - cb[t] * torch.log_softmax(dist_score[i], 0)[t]
        dist_den += cb[t]
    return (1 - alpha) * torch.stack(cls_terms).mean() + alpha * dist_num / dist_den


@pytest.mark.parametrize('drw', [False, True])
@pytest.mark.parametrize('soft', [False, True])
def test_loss_matches_naive_value_and_gradient(drw, soft):
    torch.manual_seed(0)
    cls_score = (torch.randn(7, 4, dtype=torch.float64) * 3).requires_grad_(True)
    dist_score = (torch.randn(7, 4, dtype=torch.float64) * 3).requires_grad_(True)
    teacher = torch.randn(7, 4, dtype=torch.float64)
    label = torch.softmax(torch.randn(7, 4), 1) if soft else torch.tensor([0, 1, 2, 0, 1, 0, 0])
    target = label.double() if soft else torch.nn.functional.one_hot(label, 4).double()
    loss = build_loss(alpha=0.3, drw_epoch=2, label_smoothing=0.1).double()
    loss.set_epoch(2 if drw else 1)
    ours = loss(cls_score, dist_score, label, teacher_score=teacher)
    ref = naive(cls_score, dist_score, target, teacher, 0.3, 0.9999, drw, 0.1)
    torch.testing.assert_close(ours, ref)
    g_ours = torch.autograd.grad(ours, (cls_score, dist_score))
    g_ref = torch.autograd.grad(ref, (cls_score, dist_score))
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b)


def test_hand_computed_and_weights_indexed_by_teacher_label():
    # all-zero logits: CE = log C on both heads whatever the labels and weights
    loss = build_loss(label_smoothing=0.0, drw_epoch=0)
    loss.set_epoch(0)
    zeros = torch.zeros(3, 4)
    value = loss(zeros, zeros, torch.tensor([0, 1, 3]), teacher_score=torch.eye(4)[:3])
    torch.testing.assert_close(value, torch.log(torch.tensor(4.0)))
    # the dist term's weights follow the teacher label, not the ground truth: swap the ground truth, same dist term
    dist = torch.randn(4, 4)
    teacher = torch.eye(4)[[3, 3, 0, 1]]
    only_dist = build_loss(alpha=1.0, drw_epoch=0)
    only_dist.set_epoch(0)
    a = only_dist(torch.randn(4, 4), dist, torch.tensor([0, 1, 2, 3]), teacher_score=teacher)
    b = only_dist(torch.randn(4, 4), dist, torch.tensor([3, 2, 1, 0]), teacher_score=teacher)
    w = only_dist.dist_weight
    assert w[3] > w[0]
    expected = torch.nn.functional.cross_entropy(dist, teacher.argmax(1), weight=w)
    torch.testing.assert_close(a, expected)
    torch.testing.assert_close(b, expected)


def test_bad_input_errors():
    with pytest.raises(ValueError, match='alpha'):
        build_loss(alpha=1.5)
    with pytest.raises(ValueError, match='label_smoothing'):
        build_loss(label_smoothing=1.0)
    with pytest.raises(ValueError, match='start_epoch'):
        build_loss(drw_epoch=-1)
    loss = build_loss()
    with pytest.raises(ValueError, match='teacher_score'):
        loss(torch.randn(2, 4), torch.randn(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'dist_score must be \(N, 4\)'):
        loss(torch.randn(2, 4), torch.randn(2, 5), torch.tensor([0, 1]), teacher_score=torch.randn(2, 4))
    with pytest.raises(ValueError, match='differ in shape'):
        loss(torch.randn(2, 4), torch.randn(3, 4), torch.tensor([0, 1]), teacher_score=torch.randn(2, 4))
    with pytest.raises(ValueError):
        build_loss(num_classes=5)
    with pytest.raises(ValueError):
        MODELS.build(dict(type='DeiTLTLoss', class_stats=stats([3, 0])))


def test_drw_switch_and_resume(tmp_path):
    loss = build_loss(drw_epoch=3)
    for epoch in range(3):
        loss.set_epoch(epoch)
        assert torch.equal(loss.dist_weight, torch.ones(4))
    loss.set_epoch(3)
    cb = loss.dist_weight.clone()
    assert not torch.equal(cb, torch.ones(4)) and torch.isclose(cb.sum(), torch.tensor(4.0))
    path = tmp_path / 'loss.pth'
    torch.save(loss.state_dict(), path)
    resumed = build_loss(drw_epoch=3)
    assert torch.equal(resumed.dist_weight, torch.ones(4))
    resumed.load_state_dict(torch.load(path))
    torch.testing.assert_close(resumed.dist_weight, cb)
    assert bool(resumed.drw.active) and int(resumed.drw.epoch) == 3


def tiny_vit_cfg(teacher=None, drw_epoch=1):
    return dict(type='DeiTLTClassifier', teacher=teacher,
                backbone=dict(type='DistilledVisionTransformer', arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                                                                           feedforward_channels=32),
                              img_size=16, patch_size=8, in_channels=1, out_type='cls_token'),
                head=dict(type='DeiTLTClsHead', num_classes=4, in_channels=16,
                          loss=dict(type='DeiTLTLoss', class_stats=stats(COUNTS), drw_epoch=drw_epoch)))


@pytest.fixture
def teacher_checkpoint(tmp_path):
    cfg = dict(type='ImageClassifier', backbone=dict(type='LeNet5', num_classes=-1),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=4, in_channels=120))
    teacher = MODELS.build(cfg)
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, path)
    return cfg, str(path)


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_teacher_frozen_eval_and_feeds_the_loss(teacher_checkpoint):
    cfg, path = teacher_checkpoint
    torch.manual_seed(0)
    model = MODELS.build(tiny_vit_cfg(dict(config=cfg, checkpoint=path, input_size=(32, 32))))
    model.train()
    teacher_ids = {id(p) for p in model.teacher.parameters()}
    assert teacher_ids and not teacher_ids & {id(p) for p in model.parameters()}
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    inputs = torch.randn(5, 1, 16, 16)
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    loss = model.loss(inputs, samples([0, 1, 2, 3, 0]))['loss']
    loss.backward()
    assert not model.teacher.training
    assert all(p.grad is None for p in model.teacher.parameters())
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    # the loss is DeiTLTLoss on the head's two logits and the teacher's logits of the bicubic-resized batch
    ref_teacher = MODELS.build(cfg)
    ref_teacher.load_state_dict(torch.load(path)['state_dict'])
    ref_teacher.eval()
    resized = torch.nn.functional.interpolate(inputs, size=(32, 32), mode='bicubic', align_corners=False)
    with torch.no_grad():
        teacher_score = ref_teacher(resized, mode='tensor')
    torch.testing.assert_close(model.teacher_logits(inputs), teacher_score)
    cls_score, dist_score = model.head.logits(model.extract_feat(inputs))
    # drop_path is 0: the forward is deterministic
    expected = model.head.loss_module(cls_score, dist_score, torch.tensor([0, 1, 2, 3, 0]), teacher_score=teacher_score)
    torch.testing.assert_close(loss, expected)
    # prediction = (z_cls + z_dist) / 2
    model.eval()
    with torch.no_grad():
        pred = model(inputs, mode='tensor')
    torch.testing.assert_close(pred, (cls_score + dist_score).detach() / 2)


def test_missing_teacher_files_are_named(tmp_path, teacher_checkpoint):
    cfg, _ = teacher_checkpoint
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        MODELS.build(tiny_vit_cfg(dict(config=cfg, checkpoint=missing)))
    with pytest.raises(ValueError, match='teacher must be'):
        MODELS.build(tiny_vit_cfg(dict(config=cfg)))


def test_epoch_hook_switches_the_head_loss(teacher_checkpoint):
    cfg, path = teacher_checkpoint
    model = MODELS.build(tiny_vit_cfg(dict(config=cfg, checkpoint=path), drw_epoch=1))

    class FakeRunner:
        epoch = 0
    runner = FakeRunner()
    runner.model = model
    hook = LossEpochHook()
    hook.before_train_epoch(runner)
    assert torch.equal(model.head.loss_module.dist_weight, torch.ones(4))
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert model.head.loss_module.dist_weight[3] > model.head.loss_module.dist_weight[0]


@pytest.mark.slow
def test_digits_lt_config_smoke(cls_workspace, tmp_path, monkeypatch):
    """CPU smoke: the LeNet-5 teacher config trains two iterations, its weights are saved, and the DeiT-LT Digits-LT
    config trains two iterations from that checkpoint, then validates with the averaged heads."""
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    teacher_cfg = str(REPO / 'configs/baseline/lenet_1xb32_digits-lt_30e.py')
    _, _, teacher_runner = train_two_iterations(teacher_cfg, tmp_path / 'teacher')
    checkpoint = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher_runner.model.state_dict()}, checkpoint)
    loss, metrics, runner = train_two_iterations(
        str(REPO / 'configs/deit_lt/deit-lt_vit-tiny-p8_1xb32_digits-lt_30e.py'), tmp_path / 'student',
        {'model.teacher.checkpoint': checkpoint, 'model.teacher.config': teacher_cfg})
    assert torch.isfinite(torch.tensor(loss)) and 0.0 <= metrics['shot/all'] <= 100.0
    model = runner.model
    assert not model.teacher.training
    assert not any(k.startswith('teacher') for k in model.state_dict())


def test_contrastive_teacher_gives_its_classifier_logits(tmp_path):
    """A PaCo-style teacher (QueueContrastClassifier: pooled feature -> linear classifier, plus a projection neck for
    the contrast) hands its classifier's logits, not its features, as the official PaCo teacher wrapper does."""
    cfg = dict(type='QueueContrastClassifier', backbone=dict(type='LeNet5', num_classes=-1),
               neck=dict(type='MLPNeck', channels=(120, 32, 8)),
               head=dict(type='LinearClsHead', num_classes=4, in_channels=120),
               contrast_loss=dict(type='PaCoLoss', class_stats=stats(COUNTS), num_classes=4), queue_size=16,
               feat_dim=8)
    teacher = MODELS.build(cfg)
    path = tmp_path / 'paco.pth'
    torch.save({'state_dict': teacher.state_dict()}, path)
    model = MODELS.build(tiny_vit_cfg(dict(config=cfg, checkpoint=str(path), input_size=(32, 32))))
    inputs = torch.randn(3, 1, 16, 16)
    resized = torch.nn.functional.interpolate(inputs, size=(32, 32), mode='bicubic', align_corners=False)
    teacher.eval()
    with torch.no_grad():
        expected = teacher.head(teacher.pool(teacher.backbone(resized)))
    logits = model.teacher_logits(inputs)
    assert logits.shape == (3, 4)
    torch.testing.assert_close(logits, expected)
