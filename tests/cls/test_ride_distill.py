"""RIDE with distillation (``RIDEDistillLoss``, ``RIDEClassifier``'s teacher) against a naive transcription of the
official ``RIDELossWithDistill``, the teacher frozen and outside the optimizer, state through a checkpoint, and
routed inference that computes only the experts a sample uses (same predictions as computing all of them)."""
import pytest
import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.losses.ride_loss import ride_distill_terms
from ltmm.core.reweighting import effective_number_weights

from ..helpers import REPO
from .test_ride import naive_ride, stats

COUNTS = [50, 20, 7, 1]


def build_loss(**kw):
    return MODELS.build(dict(type='RIDEDistillLoss', class_stats=stats(COUNTS), **kw))


def naive_distill(x, teacher, target, temperature, distill_factor, ride_factor, ride_args):
    """frank-xwang/RIDE-LongTailRecognition model/loss.py ``RIDELossWithDistill.forward``, sample by sample: one pass
    of the loop per expert, each adding the whole RIDE loss and the KD term of the ensemble mean."""
    n, k, _ = x.shape
    total = 0.0
    for _ in range(k):
        total = total + ride_factor * naive_ride(x, target, COUNTS, *ride_args)
        student = x.mean(dim=1)
        kl = 0.0
        for i in range(n):
            p = torch.softmax(teacher[i].detach() / temperature, 0)
            log_q = torch.log_softmax(student[i] / temperature, 0)
            kl = kl + (p * (p.log() - log_q)).sum()
        total = total + distill_factor * temperature**2 * kl / n
    return total


@pytest.mark.parametrize('reweight', [False, True])
@pytest.mark.parametrize('num_experts', [3, 4])
def test_value_and_gradient_match_naive_reference(reweight, num_experts):
    torch.manual_seed(0)
    loss = build_loss(additional_diversity_factor=-0.45, reweight_factor=0.05, distill_temperature=1.5,
                      distill_factor=0.8, ride_loss_factor=0.9, drw=dict(start_epoch=1))
    loss.drw.set_epoch(1 if reweight else 0)
    weight = effective_number_weights(COUNTS, 0.9999) if reweight else None
    x = ((torch.rand(6, num_experts, 4, dtype=torch.float64) * 2 - 1) * 30).requires_grad_(True)
    teacher = ((torch.rand(6, 4, dtype=torch.float64) * 2 - 1) * 30).requires_grad_(True)
    target = torch.tensor([0, 1, 2, 3, 0, 2])
    ours = loss(x.float(), target, avg_factor=6, teacher_score=teacher.float())
    (g,) = torch.autograd.grad(ours, x)
    ref = naive_distill(x, teacher, target, 1.5, 0.8, 0.9, (30.0, 0.5, -0.45, 0.05, 1.0, 1.0, weight))
    (rg,) = torch.autograd.grad(ref, x)
    torch.testing.assert_close(ours.double(), ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g, rg, rtol=1e-3, atol=1e-5)


def test_kd_term_hand_computed():
    # teacher (log 3, 0) at T = 1: p = (3/4, 1/4); student (0, 0): q = (1/2, 1/2);
    # KL = 3/4 log(3/2) + 1/4 log(1/2), times T^2 = 1
    kd = ride_distill_terms(torch.zeros(1, 2), torch.tensor([[torch.tensor(3.0).log(), 0.0]]), temperature=1.0)
    expected = 0.75 * torch.tensor(1.5).log() + 0.25 * torch.tensor(0.5).log()
    torch.testing.assert_close(kd, expected.reshape(1))
    # T^2 scaling: logits scaled by T at temperature T give the same distributions, T^2 times the KL
    kd2 = ride_distill_terms(torch.zeros(1, 2), 2 * torch.tensor([[torch.tensor(3.0).log(), 0.0]]), temperature=2.0)
    torch.testing.assert_close(kd2, 4 * expected.reshape(1))


def test_loss_counted_once_per_expert():
    torch.manual_seed(1)
    x, teacher, target = torch.randn(5, 3, 4) * 5, torch.randn(5, 4) * 5, torch.tensor([0, 1, 2, 3, 1])
    repeated = build_loss()(x, target, avg_factor=5, teacher_score=teacher)
    once = build_loss(repeat_per_expert=False)(x, target, avg_factor=5, teacher_score=teacher)
    torch.testing.assert_close(repeated, 3 * once)
    ride = MODELS.build(dict(type='RIDELoss', class_stats=stats(COUNTS)))(x, target, avg_factor=5)
    no_kd = build_loss(distill_factor=0.0)(x, target, avg_factor=5, teacher_score=teacher)
    torch.testing.assert_close(no_kd, 3 * ride)
    kd = ride_distill_terms(x.mean(dim=1), teacher, 1.5).mean()
    torch.testing.assert_close(once - ride, kd)


def test_teacher_logits_get_no_gradient_and_reductions():
    x = torch.randn(4, 3, 4, requires_grad=True)
    teacher = torch.randn(4, 4, requires_grad=True)
    target = torch.tensor([0, 1, 2, 3])
    loss = build_loss()
    loss(x, target, avg_factor=4, teacher_score=teacher).backward()
    assert teacher.grad is None and x.grad is not None
    per_sample = loss(x, target, avg_factor=4, teacher_score=teacher, reduction_override='none')
    assert per_sample.shape == (4, )
    assert torch.isfinite(loss(x, target, teacher_score=teacher, reduction_override='sum'))


def test_errors_name_the_problem():
    loss = build_loss()
    x, target = torch.randn(4, 3, 4), torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match='teacher_score'):
        loss(x, target)
    with pytest.raises(ValueError, match=r'\(4, 5\)'):
        loss(x, target, teacher_score=torch.randn(4, 5))
    with pytest.raises(ValueError, match='distill_temperature'):
        build_loss(distill_temperature=0.0)


def model_cfg(num_experts, loss='RIDELoss', classifier='RIDEClassifier', backbone=None, in_channels=8, **head):
    backbone = backbone or dict(type='ResNet32CIFAR', stage_channels=(4, 6, in_channels), num_experts=num_experts,
                                num_shared_stages=1)
    return dict(type=classifier, backbone=backbone, neck=dict(type='GlobalAveragePooling'),
                head=dict(type='MultiExpertClsHead', num_classes=4, in_channels=in_channels, num_experts=num_experts,
                          loss=dict(type=loss, class_stats=stats(COUNTS)), **head))


@pytest.fixture
def teacher_checkpoint(tmp_path):
    torch.manual_seed(3)
    cfg = model_cfg(6, classifier='ImageClassifier')
    teacher = MODELS.build(cfg)
    teacher.train()
    with torch.no_grad():  # non-trivial running statistics
        teacher(torch.randn(16, 3, 16, 16), mode='tensor')
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, path)
    return cfg, str(path)


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 16, 16, generator=g)
    samples = [DataSample().set_gt_label(int(i)) for i in torch.arange(n) % 4]
    return inputs, samples


def student(teacher_checkpoint, **teacher):
    cfg, path = teacher_checkpoint
    return MODELS.build(dict(model_cfg(3, 'RIDEDistillLoss'),
                             teacher=dict(dict(config=cfg, checkpoint=path), **teacher)))


def reference_teacher(teacher_checkpoint, train_mode=True):
    cfg, path = teacher_checkpoint
    teacher = MODELS.build(cfg)
    teacher.load_state_dict(torch.load(path)['state_dict'])
    return teacher.train(train_mode)


@pytest.mark.parametrize('train_mode', [True, False])
def test_teacher_frozen_outside_optimizer_and_feeds_the_loss(teacher_checkpoint, train_mode):
    from mmengine.optim import build_optim_wrapper

    model = student(teacher_checkpoint, train_mode=train_mode)
    teacher_params = {id(p) for p in model.teacher.parameters()}
    assert teacher_params and not teacher_params & {id(p) for p in model.parameters()}
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))
    optimized = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert not teacher_params & optimized
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}

    inputs, samples = batch()
    ref = reference_teacher(teacher_checkpoint, train_mode)
    with torch.no_grad():
        expected_teacher = ref(inputs, mode='tensor')
    model.train()
    torch.testing.assert_close(model.teacher_logits(inputs), expected_teacher)
    assert model.teacher.training == train_mode

    losses = model.loss(inputs, samples)
    feats = model.extract_feat(inputs)
    target = torch.arange(8) % 4
    expected = model.head.loss_module(model.head.forward_experts(feats), target, avg_factor=8,
                                      teacher_score=expected_teacher)
    torch.testing.assert_close(losses['loss'], expected)
    wrapper.update_params(losses['loss'])
    assert all(p.grad is None for p in model.teacher.parameters())
    after = model.teacher.state_dict()
    for key, value in teacher_before.items():
        if 'running_mean' in key:  # BN statistics move in train mode only (the official teacher: train mode)
            assert torch.equal(after[key], value) != train_mode, key
        elif 'running' not in key and 'num_batches' not in key:
            assert torch.equal(after[key], value), key


def test_teacher_config_errors(teacher_checkpoint, tmp_path):
    cfg, path = teacher_checkpoint
    missing = str(tmp_path / 'no_such_teacher.pth')
    with pytest.raises(FileNotFoundError, match='no_such_teacher.pth'):
        MODELS.build(dict(model_cfg(3, 'RIDEDistillLoss'), teacher=dict(config=cfg, checkpoint=missing)))
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        MODELS.build(dict(model_cfg(3, 'RIDEDistillLoss'),
                          teacher=dict(config=str(tmp_path / 'no_such_config.py'), checkpoint=path)))
    with pytest.raises(TypeError, match='teacher_score'):
        MODELS.build(dict(model_cfg(3, 'RIDELoss'), teacher=dict(config=cfg, checkpoint=path)))
    with pytest.raises(ValueError, match='teacher must be'):
        MODELS.build(dict(model_cfg(3, 'RIDEDistillLoss'), teacher=dict(checkpoint=path)))
    wrong = model_cfg(6, classifier='ImageClassifier', in_channels=10)
    with pytest.raises(RuntimeError, match='size mismatch'):  # strict loading, as the official no_ignore=True
        MODELS.build(dict(model_cfg(3, 'RIDEDistillLoss'), teacher=dict(config=wrong, checkpoint=path)))


def test_state_through_checkpoint_round_trip(teacher_checkpoint, tmp_path):
    from mmengine.runner import load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    cfg = dict(model_cfg(3, 'RIDEDistillLoss'), teacher=dict(config=teacher_checkpoint[0],
                                                             checkpoint=teacher_checkpoint[1]))
    cfg['head']['loss']['drw'] = dict(start_epoch=1)
    model = MODELS.build(cfg)
    model.head.loss_module.drw.set_epoch(1)  # re-weighted phase
    inputs, samples = batch()
    model.train()
    model.loss(inputs, samples)['loss'].backward()  # the teacher's BN statistics move (train mode)
    save_checkpoint(model.state_dict(), str(tmp_path / 'student.pth'))

    torch.manual_seed(1)
    resumed = MODELS.build(cfg)
    assert not resumed.head.loss_module.drw.active
    load_checkpoint(resumed, str(tmp_path / 'student.pth'), strict=True, logger='silent')
    assert resumed.head.loss_module.drw.active
    resumed.train()
    inputs2, samples2 = batch(seed=1)
    torch.testing.assert_close(resumed.loss(inputs2, samples2)['loss'], model.loss(inputs2, samples2)['loss'])


def routed_model(backbone, num_experts, top_k=3):
    torch.manual_seed(0)
    cfg = model_cfg(num_experts, backbone=backbone, in_channels=IN_CHANNELS[backbone['type']], router=dict(top_k=top_k))
    model = MODELS.build(cfg)
    model.train()
    with torch.no_grad():  # non-trivial BN running statistics, then eval mode
        model(torch.randn(16, 3, 32, 32), mode='tensor')
    return model.eval()


BACKBONES = {
    'resnet32': dict(type='ResNet32CIFAR', stage_channels=(4, 6, 8), num_experts=4, num_shared_stages=1),
    'ride-resnet18': dict(type='RIDEResNet', depth=18, stem_channels=8, base_channels=8, num_experts=4,
                          num_shared_stages=2, expert_widen_factor=0.75),
}
IN_CHANNELS = {'ResNet32CIFAR': 8, 'RIDEResNet': 48}  # 8 * 2^3 * 0.75


@pytest.mark.parametrize('backbone', list(BACKBONES))
@pytest.mark.parametrize('routing', ['mixed', 'every sample continues', 'no sample continues'])
def test_routed_inference_equals_full_computation(backbone, routing):
    model = routed_model(dict(BACKBONES[backbone]), 4)
    inputs = torch.randn(24, 3, 32, 32)
    with torch.no_grad():
        feats = model.head.expert_features(model.extract_feat(inputs))
        first = model.head.router(feats[:, 0], model.head._expert_logits(feats)[:, 0], 0)
    shift = {'mixed': -first.median(), 'every sample continues': 1e4, 'no sample continues': -1e4}[routing]
    model.head.router.fc.bias.data += shift
    for k, hidden in enumerate(model.head.router.hidden):  # decisions 1, 2 on other sample subsets
        hidden.bias.data += 0.3 * k
    calls = []
    forward_expert = model.backbone.forward_expert

    def counting(x, k):
        calls.append((k, x.size(0)))
        return forward_expert(x, k)

    model.backbone.forward_expert = counting
    with torch.no_grad():
        routed = model.predict(inputs)
        full = ImageClassifier.predict(model, inputs)
    used = [s.num_experts for s in routed]
    assert used == [s.num_experts for s in full]
    assert [int(s.pred_label) for s in routed] == [int(s.pred_label) for s in full]
    torch.testing.assert_close(torch.stack([s.pred_score for s in routed]), torch.stack([s.pred_score for s in full]))
    expected_calls = [(k, sum(u > k for u in used)) for k in range(4) if sum(u > k for u in used)]
    assert calls == expected_calls  # each expert ran on exactly the samples that use it
    if routing == 'mixed':
        assert 1 < len(set(used))
    else:
        assert set(used) == ({4} if routing == 'every sample continues' else {1})


def test_without_router_predict_is_the_full_mean():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(3)).eval()
    inputs = torch.randn(6, 3, 16, 16)
    with torch.no_grad():
        ours, full = model.predict(inputs), ImageClassifier.predict(model, inputs)
    torch.testing.assert_close(torch.stack([s.pred_score for s in ours]), torch.stack([s.pred_score for s in full]))
    assert not model.routes_experts
    with pytest.raises(ValueError, match='router'):
        model.head.route_computing_used_experts(lambda k, index: None, 6)


def test_one_expert_forward_matches_the_concatenated_features():
    model = routed_model(dict(BACKBONES['ride-resnet18']), 4)
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        full = model.backbone(x)[-1]
        shared = model.backbone.forward_shared(x)
        for k in range(4):
            torch.testing.assert_close(model.backbone.forward_expert(shared, k), full.chunk(4, dim=1)[k])
    with pytest.raises(ValueError, match='expert index 4'):
        model.backbone.forward_expert(shared, 4)
    plain = MODELS.build(dict(type='ResNet32CIFAR'))
    with pytest.raises(ValueError, match='no per-expert stage'):
        plain.forward_shared(x)


@pytest.mark.slow
def test_digits_lt_teacher_then_distilled_student(cls_workspace, tmp_path, monkeypatch):
    """CPU smoke: the 6-expert Digits-LT teacher config trains two iterations, its weights are saved, and the
    distilled 4-expert student config trains two iterations from that teacher checkpoint (given as an option)."""
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    teacher_cfg = str(REPO / 'configs/ride/ride-6e_resnet32_1xb32_digits-lt_30e.py')
    _, _, teacher_runner = train_two_iterations(teacher_cfg, tmp_path / 'teacher')
    checkpoint = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher_runner.model.state_dict()}, checkpoint)

    loss, metrics, runner = train_two_iterations(
        str(REPO / 'configs/ride/ride-distill-4e_resnet32_1xb32_digits-lt_30e.py'), tmp_path / 'student',
        {'model.teacher.checkpoint': checkpoint, 'model.teacher.config': teacher_cfg})
    assert torch.isfinite(torch.tensor(loss)) and 0.0 <= metrics['shot/all'] <= 100.0
    model = runner.model
    assert model.head.num_experts == 4 and model.teacher.head.num_experts == 6
    saved = torch.load(checkpoint)['state_dict']
    for key, value in model.teacher.state_dict().items():
        if 'running' not in key and 'num_batches' not in key:
            assert torch.equal(value, saved[key]), key
    assert not any(k.startswith('teacher') for k in model.state_dict())
    with pytest.raises(ValueError, match='teacher_score'):  # the student never trains without its teacher
        model.head.loss_module(torch.randn(2, 4, 10), torch.tensor([0, 1]))
