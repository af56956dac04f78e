"""BCL (Zhu et al., CVPR 2022): ``bcl_loss`` / ``BCLLoss`` against a per-anchor loop transcribed from the official
``BalSCL`` (value and gradient), the hand-computed class-averaged denominator, edge cases, the prototype path into
the classifier weights, float16 inputs, two gloo ranks against the single-process full batch,
``MultiViewContrastClassifier``, the schedule and the Digits-LT config on CPU."""
import math
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.losses import BCLLoss, bcl_loss, supcon_loss
from ltmm.cls.schedulers import paco_warmup_cosine_factor
from ltmm.core.distributed import concat_all_gather, gather_with_grad

from ..helpers import REPO, free_port, gloo_process_group
from .digits_lt_smoke import train_two_iterations

DIGITS_CONFIG = str(REPO / 'configs' / 'bcl' / 'bcl_lenet_1xb32_digits-lt_30e.py')


def official_bcl(centers: torch.Tensor, features: torch.Tensor, targets: torch.Tensor, num_classes: int,
                 temperature: float) -> torch.Tensor:
    """``BalSCL.forward`` (loss/contrastive.py lines 17-58) as a loop over the 2B anchors: contrast rows
    ``[view 1; view 2; centres]`` labelled ``[y; y; 0..C-1]``; the row max subtracted (detached); the denominator
    sums ``exp(l_ij) / (count_{y_j} - [j positive])`` over ``j != i``; the mean log-probability over the positives;
    the mean over anchors."""
    batch = features.shape[0]
    rows = torch.cat([features[:, 0], features[:, 1], centers])
    labels = torch.cat([targets, targets, torch.arange(num_classes)]).tolist()
    counts = [labels.count(c) for c in range(num_classes)]
    losses = []
    for i in range(2 * batch):
        logits = torch.stack([rows[i] @ rows[j] for j in range(len(rows))]) / temperature
        logits = logits - logits.max().detach()
        denom = sum(torch.exp(logits[j]) / (counts[labels[j]] - float(labels[j] == labels[i]))
                    for j in range(len(rows)) if j != i)
        positives = [j for j in range(len(rows)) if j != i and labels[j] == labels[i]]
        losses.append(-torch.stack([logits[j] - torch.log(denom) for j in positives]).mean())
    return torch.stack(losses).mean()


def unit(*shape, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=dtype), dim=-1)


@pytest.mark.parametrize('labels,num_classes', [([0, 1, 1, 2, 0, 1], 4), ([0, 0, 0], 3), ([2], 3), ([1, 0], 2)])
@pytest.mark.parametrize('temperature', [0.07, 0.5])
def test_bcl_matches_the_official_value_and_gradient(labels, num_classes, temperature):
    targets = torch.tensor(labels)
    feats = unit(len(labels), 2, 5, seed=1).requires_grad_()
    protos = unit(num_classes, 5, seed=2).requires_grad_()
    ours = bcl_loss(feats, targets, protos, temperature)
    g_ours = torch.autograd.grad(ours, [feats, protos])
    ref = official_bcl(protos, feats, targets, num_classes, temperature)
    g_ref = torch.autograd.grad(ref, [feats, protos])
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), ref, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_class_averaged_denominator_by_hand():
    """T = 1, class-0 rows e1, class-1 rows e2 (same class: logit 1, other class: 0). Every anchor's positives have
    log p = 1 - log D. Class-averaged: D = (mean of the own class's e terms) + (mean of the other class's 1s) = e + 1
    whatever the class counts; SupCon's plain sum would give 2 e + 3 for one sample per class."""
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    protos = torch.stack([e1, e2])
    for labels in ([0, 1], [0, 0, 1], [1, 0, 0, 0, 0]):
        targets = torch.tensor(labels)
        feats = torch.stack([torch.stack([e1 if y == 0 else e2] * 2) for y in labels])
        loss = bcl_loss(feats, targets, protos, temperature=1.0)
        assert loss.item() == pytest.approx(math.log(1 + math.e) - 1, rel=1e-6), labels
    # the same 2-class batch without class-averaging (plain SupCon over the 2B + C rows)
    feats = torch.stack([torch.stack([e1] * 2), torch.stack([e2] * 2)])
    rows = torch.cat([feats[:, 0], feats[:, 1], protos])
    row_labels = torch.tensor([0, 1, 0, 1, 0, 1])
    logits = rows[:4] @ rows.T
    not_self = torch.ones_like(logits)
    not_self[range(4), range(4)] = 0
    pos = (row_labels[:4, None] == row_labels[None]).float() * not_self
    assert supcon_loss(logits, pos, not_self).item() == pytest.approx(math.log(2 * math.e + 3) - 1, rel=1e-6)


def test_class_complement_absent_class_prototype_weighs_one():
    """A class absent from the batch is in the denominator through its prototype alone (count 1): with a third
    prototype e3 orthogonal to every row, D = e + 1 + 1."""
    e1, e2, e3 = torch.eye(3)
    feats = torch.stack([torch.stack([e1] * 2), torch.stack([e2] * 2)])
    loss = bcl_loss(feats, torch.tensor([0, 1]), torch.stack([e1, e2, e3]), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(2 + math.e) - 1, rel=1e-6)


def test_one_class_batch_and_single_sample_class_are_finite():
    protos = unit(3, 4, seed=3)
    for labels in ([1, 1, 1, 1], [0, 2, 2]):
        loss = bcl_loss(unit(len(labels), 2, 4, seed=4), torch.tensor(labels), protos)
        assert torch.isfinite(loss)
    # one view: the only positive is the prototype (|P| = 1), still finite and equal to the official form
    one_view = bcl_loss(unit(2, 1, 4, seed=5), torch.tensor([0, 1]), protos)
    assert torch.isfinite(one_view)


def test_anchor_subset_is_the_mean_over_those_anchors():
    feats, protos, labels = unit(4, 2, 6, seed=6), unit(3, 6, seed=7), torch.tensor([0, 1, 2, 1])
    full = bcl_loss(feats, labels, protos)
    halves = [bcl_loss(feats, labels, protos, anchors=torch.tensor(idx)) for idx in ([0, 1], [2, 3])]
    torch.testing.assert_close(sum(halves) / 2, full)
    torch.testing.assert_close(bcl_loss(feats, labels, protos, anchors=torch.arange(4)), full)


def test_float16_inputs_give_a_float32_loss():
    feats, protos, labels = unit(6, 2, 8, seed=8), unit(4, 8, seed=9), torch.tensor([0, 1, 1, 3, 0, 2])
    ref = bcl_loss(feats, labels, protos)
    half = bcl_loss(feats.half(), labels, protos.half())
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, ref.float(), rtol=1e-2, atol=1e-2)


def test_errors_name_the_value():
    feats, protos = unit(2, 2, 4), unit(3, 4)
    with pytest.raises(ValueError, match=r'\[5\]'):
        bcl_loss(feats, torch.tensor([0, 5]), protos)
    with pytest.raises(ValueError, match='prototypes must be'):
        bcl_loss(feats, torch.tensor([0, 1]), unit(3, 5))
    with pytest.raises(ValueError, match='3 labels for 2 samples'):
        bcl_loss(feats, torch.tensor([0, 1, 1]), protos)
    with pytest.raises(ValueError, match='temperature'):
        BCLLoss(num_classes=3, in_channels=4, feat_dim=4, temperature=0.0)
    loss = BCLLoss(num_classes=3, in_channels=4, feat_dim=4)
    with pytest.raises(ValueError, match=r'fc.weight must be \(3, F\), got shape \(5, 4\)'):
        loss(feats, torch.tensor([0, 1]), head=MODELS.build(dict(type='CosineClsHead', num_classes=5, in_channels=4)))
    with pytest.raises(AttributeError, match='has no'):
        loss(feats, torch.tensor([0, 1]), head=torch.nn.Identity())


def stats(counts):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def cosine_head(num_classes=3, in_channels=6):
    return MODELS.build(dict(type='CosineClsHead', num_classes=num_classes, in_channels=in_channels, scale=30.0,
                             loss=dict(type='LogitAdjustedLoss', class_stats=stats(range(num_classes + 2, 2, -1)))))


def test_prototype_path_reaches_the_classifier_weights_through_the_mlp():
    torch.manual_seed(0)
    head = cosine_head()
    loss_mod = BCLLoss(num_classes=3, in_channels=6, feat_dim=4, loss_weight=0.35)
    feats = unit(4, 2, 4, seed=10, dtype=torch.float32).requires_grad_()
    out = loss_mod(feats, torch.tensor([0, 1, 1, 2]), head=head)
    assert set(out) == {'loss_bcl'}
    out['loss_bcl'].backward()
    assert head.fc.weight.grad is not None and head.fc.weight.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in loss_mod.prototype_mlp.parameters())
    # the prototypes are normalize(MLP(raw W)), the MLP the official head_fc: Linear - BN1d - ReLU - Linear
    mlp = loss_mod.prototype_mlp.mlp
    assert [type(m).__name__ for m in mlp] == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    torch.testing.assert_close(loss_mod.prototypes(head), F.normalize(mlp(head.fc.weight), dim=1))
    # loss_weight is beta
    plain = bcl_loss(feats.detach(), torch.tensor([0, 1, 1, 2]), loss_mod.prototypes(head).detach())
    torch.testing.assert_close(out['loss_bcl'].detach(), 0.35 * plain)


def test_default_prototype_mlp_is_the_official_width():
    loss_mod = BCLLoss(num_classes=10)
    assert [tuple(m.weight.shape) for m in loss_mod.prototype_mlp.mlp if hasattr(m, 'weight')] == [
        (2048, 2048), (2048, ), (1024, 2048)]
    assert loss_mod.temperature == 0.07 and loss_mod.loss_weight == 0.35


ROWS_PER_RANK = 3
LABELS = [0, 1, 1, 3, 0, 1]


def bcl_worker(rank, world_size, port, out_dir):
    with gloo_process_group(rank, world_size, port):
        torch.manual_seed(0)
        head = cosine_head(num_classes=4, in_channels=6)
        loss_mod = BCLLoss(num_classes=4, in_channels=6, feat_dim=5)
        full = unit(ROWS_PER_RANK * world_size, 2, 5, seed=11, dtype=torch.float32)
        rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
        local = full[rows].clone().requires_grad_()
        loss = loss_mod(local, torch.tensor(LABELS)[rows], head=head)['loss_bcl']
        loss.backward()
        torch.save(dict(loss=loss.detach(), grad=local.grad, w_grad=head.fc.weight.grad),
                   Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks_equal_the_single_process_full_batch(tmp_path):
    """Per rank: local anchors against the gathered views (gather_with_grad) and the prototypes, class counts from
    the gathered labels. DDP's mean of the per-rank gradients equals the full-batch gradient: rank r's rows get
    world_size times the full-batch gradient of its rows, the mean of the classifier-weight gradients the full one."""
    world_size = 2
    mp.start_processes(bcl_worker, args=(world_size, free_port(), str(tmp_path)), nprocs=world_size, join=True,
                       start_method='fork')
    torch.manual_seed(0)
    head = cosine_head(num_classes=4, in_channels=6)
    loss_mod = BCLLoss(num_classes=4, in_channels=6, feat_dim=5)
    full = unit(ROWS_PER_RANK * world_size, 2, 5, seed=11, dtype=torch.float32).requires_grad_()
    full_loss = loss_mod(full, torch.tensor(LABELS), head=head)['loss_bcl']
    full_loss.backward()
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(world_size)]
    for rank, res in enumerate(results):
        rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
        torch.testing.assert_close(res['grad'], world_size * full.grad[rows], rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(sum(r['loss'] for r in results) / world_size, full_loss.detach(), rtol=1e-5,
                               atol=1e-6)
    torch.testing.assert_close(sum(r['w_grad'] for r in results) / world_size, head.fc.weight.grad, rtol=1e-4,
                               atol=1e-6)


def test_gather_helpers_are_the_identity_on_one_process():
    x = torch.randn(2, 3)
    assert gather_with_grad(x) is x
    torch.testing.assert_close(concat_all_gather(x), x)


# ------------------------------------------------------------------ the model

def tiny_model(contrast_loss=None, head=True, **kwargs):
    cfg = dict(
        type='MultiViewContrastClassifier',
        backbone=dict(type='LeNet5', num_classes=-1),
        neck=dict(type='MLPNeck', channels=(120, 120, 16), norm_cfg=dict(type='BN1d')),
        contrast_loss=contrast_loss or dict(type='BCLLoss', num_classes=3, in_channels=120, feat_dim=16),
        data_preprocessor=dict(mean=[0.0], std=[1.0]), **kwargs)
    if head:
        cfg['head'] = dict(type='CosineClsHead', num_classes=3, in_channels=120, scale=30.0,
                           loss=dict(type='LogitAdjustedLoss', class_stats=stats([5, 3, 1])))
    return MODELS.build(cfg)


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]


def test_model_losses_views_and_prediction():
    torch.manual_seed(0)
    model = tiny_model()
    views = [torch.randn(4, 1, 32, 32) for _ in range(3)]
    labels = [0, 1, 2, 1]
    losses = model.loss(views, samples(labels))
    assert set(losses) == {'loss', 'loss_bcl'}
    # the head's loss is LA-CE of view 0's pooled features, computed in the one pass over the three views
    pooled = model.extract_feat(torch.cat(views))[-1]
    la = F.cross_entropy(model.head((pooled[:4], )) + torch.log(torch.tensor([5, 3, 1.0]) / 9), torch.tensor(labels))
    torch.testing.assert_close(losses['loss'], la, rtol=1e-5, atol=1e-6)
    z = F.normalize(model.neck((pooled, ))[-1], dim=1)
    bcl = model.contrast_loss(torch.stack([z[4:8], z[8:]], dim=1), torch.tensor(labels), model.head)
    torch.testing.assert_close(losses['loss_bcl'], bcl['loss_bcl'], rtol=1e-5, atol=1e-6)
    sum(losses.values()).backward()
    assert model.head.fc.weight.grad.abs().sum() > 0 and model.backbone.features[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model.predict(views[0], samples(labels))
    assert preds[0].pred_score.shape == (3, )
    with pytest.raises(ValueError, match='at least 3 views'):
        model.loss(views[:2], samples(labels))


def test_prototype_mlp_state_round_trips_through_a_checkpoint(tmp_path):
    """The prototype MLP (its weights and BN1d running statistics) is part of the model's state_dict."""
    torch.manual_seed(0)
    model = tiny_model()
    model.loss([torch.randn(4, 1, 32, 32) for _ in range(3)], samples([0, 1, 2, 1]))  # updates the BN1d stats
    state = model.state_dict()
    assert 'contrast_loss.prototype_mlp.mlp.1.running_mean' in state
    torch.save(state, tmp_path / 'ckpt.pth')
    torch.manual_seed(1)
    other = tiny_model()
    other.load_state_dict(torch.load(tmp_path / 'ckpt.pth'))
    model.eval()
    other.eval()
    torch.testing.assert_close(other.contrast_loss.prototypes(other.head), model.contrast_loss.prototypes(model.head))


def test_model_takes_supcon_without_a_head():
    torch.manual_seed(0)
    model = tiny_model(contrast_loss=dict(type='SupConLoss', temperature=0.1), head=False, contrast_views=(0, 1))
    views = [torch.randn(4, 1, 32, 32) for _ in range(2)]
    losses = model.loss(views, samples([0, 1, 0, 1]))
    assert set(losses) == {'loss_contrast'} and torch.isfinite(losses['loss_contrast'])
    with pytest.raises(ValueError, match='listed twice'):
        tiny_model(contrast_views=(1, 1))


def test_schedule_is_the_official_cosine_without_warmup():
    """main.py adjust_lr with --warmup_epochs 0 --cos True: lr * (1 + cos(pi (e + 1) / (E + 1))) / 2."""
    for epoch in (0, 44, 89):
        expected = 0.5 * (1 + math.cos(math.pi * (epoch + 1) / 91))
        assert paco_warmup_cosine_factor(epoch, 90, warmup_epochs=0) == pytest.approx(expected)
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / 'configs' / 'bcl' / 'bcl_resnet50_4xb64_imagenet-lt_90e.py'))
    assert cfg.param_scheduler.type == 'PaCoWarmupCosineLR' and cfg.param_scheduler.warmup_epochs == 0
    assert cfg.param_scheduler.end == cfg.train_cfg.max_epochs == 90
    from ltmm.cls.schedulers import PaCoWarmupCosineLR
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = PaCoWarmupCosineLR(optimizer, warmup_epochs=0, end=90)
    lrs = []
    for _ in range(90):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(0.05 * (1 + math.cos(math.pi / 91))) and lrs[-1] == pytest.approx(
        0.05 * (1 + math.cos(math.pi * 90 / 91)))
    with pytest.raises(ValueError, match='warmup_inclusive'):
        PaCoWarmupCosineLR(optimizer, warmup_epochs=0, warmup_inclusive=True, end=90)


@pytest.mark.slow
def test_digits_lt_config_trains_on_cpu(cls_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(cls_workspace)
    loss, metrics, runner = train_two_iterations(DIGITS_CONFIG, tmp_path)
    assert math.isfinite(loss)
    assert 'shot/all' in metrics
    model = runner.model
    assert type(model).__name__ == 'MultiViewContrastClassifier'
    assert runner.train_dataloader.dataset.pipeline.transforms[1].num_views == [1, 2]
