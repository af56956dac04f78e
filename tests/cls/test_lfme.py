"""LFME (Learning From Multiple Experts): the student loss against a naive transcription of the official formula,
the self-paced teacher weights, the curriculum instance weights and the loss state through a checkpoint."""
import io
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ltmm.cls.losses import LFMELoss, lfme_loss
from ltmm.cls.losses.lfme_loss import (
    lfme_curriculum_weight,
    lfme_instance_base_weights,
    lfme_subsets,
    lfme_teacher_weight,
)

from .digits_lt_smoke import train_two_iterations

COUNTS = [150, 120, 100, 60, 21, 20, 5]  # many: 0, 1, 2 (n >= 100); medium: 3, 4; few: 5, 6 (n <= 20)
STATS = dict(num_images=sum(COUNTS), image_count=COUNTS, instance_count=COUNTS)


def naive_lfme(z, y, teachers, subsets, alpha, T, w):
    """Element by element: CE of the scaled logits plus, per expert, nn.KLDivLoss() (element mean) times |S_s|."""
    z = z * w[:, None]
    loss = F.cross_entropy(z, y)
    for t, subset, a in zip(teachers, subsets, alpha):
        q = F.log_softmax(z[:, subset] / T, dim=1)
        p = F.softmax(t / T, dim=1)
        loss = loss + a * torch.nn.KLDivLoss()(q, p) * len(subset)
    return loss


def test_subsets_use_inclusive_thresholds():
    assert lfme_subsets(COUNTS) == [[5, 6], [3, 4], [0, 1, 2]]
    assert lfme_subsets([200, 150]) == [[0, 1]]
    with pytest.raises(ValueError, match='few_max'):
        lfme_subsets(COUNTS, many_min=20, few_max=20)


def test_loss_matches_naive_value_and_gradient():
    torch.manual_seed(0)
    loss_fn = LFMELoss(STATS, num_classes=7, expert_acc=[0.5, 0.6, 0.8])
    loss_fn.teacher_weight.copy_(torch.tensor([1.0, 0.4, 0.0]))
    z = torch.randn(5, 7, requires_grad=True)
    y = torch.tensor([0, 3, 6, 6, 4])
    teachers = [torch.randn(5, len(s), requires_grad=True) for s in loss_fn.subsets]
    w = torch.tensor([0.3, 1.0, 1.2, 0.9, 0.5])
    ours = loss_fn(z, y, teacher_scores=teachers, instance_weight=w)
    z2 = z.detach().clone().requires_grad_(True)
    ref = naive_lfme(z2, y, [t.detach() for t in teachers], loss_fn.subsets, [1.0, 0.4, 0.0], 2.0, w)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(z.grad, z2.grad)
    assert all(t.grad is None for t in teachers)  # the experts are frozen: no gradient reaches them


def test_hand_case_one_sample():
    # one expert over classes {0, 1}, teacher logits equal to the student's, w = 1: KL = 0, the loss is the CE.
    z = torch.tensor([[2.0, 0.0, 1.0]])
    loss = lfme_loss(z, torch.tensor([0]), [torch.tensor([[2.0, 0.0]])], [[0, 1]], torch.ones(1))
    assert loss.item() == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(1))))
    # uniform teacher: KL(u || softmax(z[:2] / 2)) = log 2 + 0.5 * (-log q0 - log q1)
    q = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    kl = (0.5 * (math.log(0.5) - q.log())).sum().item()
    loss_u = lfme_loss(z, torch.tensor([0]), [torch.zeros(1, 2)], [[0, 1]], torch.tensor([0.5]))
    assert loss_u.item() == pytest.approx(loss.item() + 0.5 * kl, rel=1e-6)


def test_without_teachers_is_cross_entropy():
    z, y = torch.randn(4, 7), torch.tensor([0, 1, 5, 6])
    torch.testing.assert_close(LFMELoss(STATS)(z, y), F.cross_entropy(z, y))


def test_teacher_weight_schedule_hand_case():
    # A = 0.8, decay_thresh 0.3: below 0.24 -> 1; at 0.24 -> (0.56) / 0.56 = 1 (continuous); 0.52 -> 0.5; 0.8 -> 0
    assert lfme_teacher_weight(0.1, 0.8) == 1.0
    assert lfme_teacher_weight(0.24, 0.8) == pytest.approx(1.0)
    assert lfme_teacher_weight(0.52, 0.8) == pytest.approx(0.5)
    assert lfme_teacher_weight(0.8, 0.8) == 0.0
    assert lfme_teacher_weight(0.9, 0.8) == 0.0
    loss_fn = LFMELoss(STATS, expert_acc=[0.5, 0.6, 0.8])
    loss_fn.update_teacher_weight([0.1, 0.6, 0.52])
    torch.testing.assert_close(loss_fn.teacher_weight, torch.tensor([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match='2 student accuracies'):
        loss_fn.update_teacher_weight([0.1, 0.2])
    with pytest.raises(RuntimeError, match='expert accuracies are not set'):
        LFMELoss(STATS).update_teacher_weight([0.1, 0.2, 0.3])


def test_instance_selection_weights():
    conf = torch.tensor([0.2, 0.6, 1.0, 0.5, 0.5, 0.9])
    label = torch.tensor([0, 0, 0, 1, 1, 2])
    theta = torch.tensor([0.1, 0.5, 1.0])
    v = lfme_instance_base_weights(conf, label, theta)
    # class 0 min-max scaled to [0.1, 1]; class 1 all equal -> 1 (official NaN); class 2 single instance -> 1
    torch.testing.assert_close(v, torch.tensor([0.1, 0.55, 1.0, 1.0, 1.0, 1.0]))
    w = lfme_curriculum_weight(v, epoch=45, half_epochs=45)
    torch.testing.assert_close(w, torch.ones(6))
    torch.testing.assert_close(lfme_curriculum_weight(v, epoch=90, half_epochs=45), 2 - v)  # no clamp
    with pytest.raises(ValueError, match='half_epochs'):
        lfme_curriculum_weight(v, 1, 0)


def test_bad_input_errors():
    with pytest.raises(ValueError, match='expert_acc needs 3'):
        LFMELoss(STATS, expert_acc=[0.5])
    with pytest.raises(ValueError, match='subsets'):
        LFMELoss(STATS, subsets=[[0, 9]])
    with pytest.raises(ValueError, match='teacher 0 scores'):
        LFMELoss(STATS)(torch.randn(2, 7), torch.tensor([0, 1]), teacher_scores=[torch.randn(2, 3)] * 3)
    with pytest.raises(ValueError, match='2 teacher scores'):
        LFMELoss(STATS)(torch.randn(2, 7), torch.tensor([0, 1]), teacher_scores=[torch.randn(2, 2)] * 2)


def test_state_through_checkpoint():
    loss_fn = LFMELoss(STATS, expert_acc=[0.5, 0.6, 0.8])
    loss_fn.update_teacher_weight([0.45, 0.3, 0.1])
    buf = io.BytesIO()
    torch.save(loss_fn.state_dict(), buf)
    buf.seek(0)
    restored = LFMELoss(STATS)
    restored.load_state_dict(torch.load(buf))
    torch.testing.assert_close(restored.teacher_weight, loss_fn.teacher_weight)
    torch.testing.assert_close(restored.expert_acc, loss_fn.expert_acc)


REPO = Path(__file__).resolve().parents[2]
STUDENT = REPO / 'configs/lfme/lfme_lenet_1xb32_digits-lt_30e.py'


def expert_checkpoints(tmp_path):
    """Untrained expert models of the three Digits-LT expert configs, saved: [dict(config, checkpoint)]."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    import ltmm.cls  # noqa: F401 (registers ltmm's modules)

    experts = []
    for name in ('few', 'medium', 'many'):
        config = str(REPO / f'configs/lfme/lfme-expert-{name}_lenet_1xb32_digits-lt_30e.py')
        model = MODELS.build(Config.fromfile(config).model)
        path = str(tmp_path / f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict()), path)
        experts.append(dict(config=config, checkpoint=path))
    return experts


def test_missing_expert_checkpoint_is_named(tmp_path):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(str(STUDENT))
    experts = expert_checkpoints(tmp_path)
    experts[1]['checkpoint'] = str(tmp_path / 'absent.pth')
    cfg.model.experts = experts
    cfg.model.head.loss.class_stats = dict(num_images=348, image_count=[120, 79, 52, 35, 23, 15, 10, 6, 4, 3],
                                           instance_count=[120, 79, 52, 35, 23, 15, 10, 6, 4, 3])
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        MODELS.build(cfg.model)


@pytest.mark.slow
def test_digits_lt_student_trains_with_frozen_experts(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    experts = expert_checkpoints(tmp_path)
    loss, metrics, runner = train_two_iterations(str(STUDENT), tmp_path / 'smoke', dict(model=dict(experts=experts)))
    assert math.isfinite(loss)
    model = runner.model
    assert len(model.experts) == 3
    assert all(not p.requires_grad and p.grad is None for e in model.experts for p in e.parameters())
    expert_ids = {id(p) for e in model.experts for p in e.parameters()}
    assert not expert_ids & {id(p) for p in model.parameters()}  # not optimised, not in the student's checkpoint
    loss_fn = model.head.loss_module
    assert (loss_fn.expert_acc > 0).all()  # measured before training
    expected = [lfme_teacher_weight(metrics[k], a, 0.3)
                for k, a in zip(('lfme/few', 'lfme/medium', 'lfme/many'), loss_fn.expert_acc.tolist())]
    torch.testing.assert_close(loss_fn.teacher_weight, torch.tensor(expected))
    assert 'head.loss_module.teacher_weight' in model.state_dict()


def test_theta_is_the_fewest_subset_mean_over_each_subset_mean():
    # the official 12 / 53 and 12 / 230 from ImageNet-LT's mean shots; 1 on the low-shot subset
    theta = LFMELoss(STATS).theta()
    few, medium, many = 12.5, (60 + 21) / 2, (150 + 120 + 100) / 3
    torch.testing.assert_close(theta, torch.tensor([few / many] * 3 + [few / medium] * 2 + [1.0] * 2))


def test_curriculum_weights_from_sample_indices_and_epoch():
    loss_fn = LFMELoss(STATS, curriculum_half_epochs=4)
    label = torch.tensor([0, 0, 0, 3, 3, 5, 6, 1])
    conf = torch.tensor([0.9, 0.5, 0.1, 0.2, 0.4, 0.3, 0.8, 0.6])
    loss_fn.set_instance_base_weights(conf, label)
    v = lfme_instance_base_weights(conf, label, loss_fn.theta())
    torch.testing.assert_close(loss_fn.instance_base_weight, v)
    loss_fn.set_epoch(2)  # 0-indexed: the curriculum's e = 3
    idx = torch.tensor([2, 0, 7, 3])
    z = torch.randn(4, 7, generator=torch.Generator().manual_seed(0))
    y = label[idx]
    w = v[idx] + (1 - v[idx]) * 3 / 4
    torch.testing.assert_close(loss_fn.curriculum_weight(idx), w)
    torch.testing.assert_close(loss_fn(z, y, sample_idx=idx), loss_fn(z, y, instance_weight=w))
    with pytest.raises(ValueError, match='sample_idx'):
        loss_fn(z, y)
    with pytest.raises(IndexError, match='beyond the 8 base weights'):
        loss_fn(z, y, sample_idx=torch.tensor([0, 1, 2, 8]))
    with pytest.raises(RuntimeError, match='not set'):
        LFMELoss(STATS, curriculum_half_epochs=4)(z, y, sample_idx=idx)
    with pytest.raises(ValueError, match='curriculum_half_epochs'):
        LFMELoss(STATS, curriculum_half_epochs=0)


def test_curriculum_state_through_checkpoint():
    loss_fn = LFMELoss(STATS, curriculum_half_epochs=45)
    loss_fn.set_instance_base_weights(torch.tensor([0.2, 0.9, 0.5]), torch.tensor([0, 0, 1]))
    loss_fn.set_epoch(7)
    buf = io.BytesIO()
    torch.save(loss_fn.state_dict(), buf)
    buf.seek(0)
    restored = LFMELoss(STATS, curriculum_half_epochs=45)
    restored.load_state_dict(torch.load(buf))
    torch.testing.assert_close(restored.instance_base_weight, loss_fn.instance_base_weight)
    assert int(restored.epoch) == 7


@pytest.mark.slow
def test_digits_lt_student_computes_the_curriculum_base_weights(cls_workspace, tmp_path, monkeypatch):
    from ltmm.cls.hooks.lfme_hook import set_curriculum_base_weights

    monkeypatch.chdir(cls_workspace)
    experts = expert_checkpoints(tmp_path)
    _, _, runner = train_two_iterations(str(STUDENT), tmp_path / 'smoke', dict(model=dict(experts=experts)))
    model = runner.model
    loss_fn = model.head.loss_module
    base = loss_fn.instance_base_weight.clone()
    assert loss_fn.curriculum_half_epochs == 15 and base.numel() == len(runner.train_dataloader.dataset)
    assert ((base > 0) & (base <= 1)).all()
    # recomputed by hand: each image's expert confidence on its class, then the per-class scaling
    loss_fn.instance_base_weight = torch.zeros(0)
    set_curriculum_base_weights(runner, model, [loss_fn])
    torch.testing.assert_close(loss_fn.instance_base_weight, base)
    dataset = runner.train_dataloader.dataset
    labels = torch.tensor([int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))])
    for c in labels.unique().tolist():  # the most confident image of each class gets weight 1
        assert math.isclose(float(base[labels == c].max()), 1.0, rel_tol=1e-6)


class _Labels:
    """A stand-in dataset: one data info per label."""

    def __init__(self, labels):
        self.labels = labels
        self.metainfo = {'classes': [str(c) for c in range(len(COUNTS))]}

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        return {'gt_label': self.labels[idx], 'sample_idx': idx}

    def pipeline(self, info):
        return info


def test_class_subset_by_shot_group():
    from ltmm.cls.datasets import ClassSubsetDataset
    from ltmm.core.long_tail import shot_groups

    assert shot_groups(COUNTS) == {'few': [5, 6], 'medium': [3, 4], 'many': [0, 1, 2]}
    assert lfme_subsets(COUNTS) == [[5, 6], [3, 4], [0, 1, 2]]
    labels = [0, 5, 3, 6, 1, 4, 2, 5]
    few = ClassSubsetDataset(_Labels(labels), shot='few', class_stats=STATS, num_classes=2)
    assert few.indices == [1, 3, 7] and [few.get_data_info(i)['gt_label'] for i in range(3)] == [0, 1, 0]
    assert few.metainfo['classes'] == ['5', '6']
    with pytest.raises(ValueError, match='the subset has 3 classes, num_classes is 391'):
        ClassSubsetDataset(_Labels(labels), shot='many', class_stats=STATS, num_classes=391)
    with pytest.raises(ValueError, match='either classes or shot'):
        ClassSubsetDataset(_Labels(labels), classes=[0], shot='few', class_stats=STATS)
    with pytest.raises(ValueError, match="'few', 'medium' or 'many'"):
        ClassSubsetDataset(_Labels(labels), shot='tail', class_stats=STATS)
