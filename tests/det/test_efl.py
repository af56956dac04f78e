"""EFL (``EqualizedFocalLoss``): value and gradient against a naive transcription of the official loss (ModelTC/EOD
up/tasks/det/plugins/efl/models/losses/efl.py ``forward``), the gradient statistics against the official
``collect_grad`` on the autograd gradient, a hand-computed two-iteration case, the update once per iteration over the
FPN levels, 2 gloo ranks, a checkpoint round trip, all-background batches, fp16 / bf16, errors, mmdet's RetinaHead and
ATSSHead, the LVIS configs and the LT-Shapes config training on CPU."""
import json
import math
from pathlib import Path
from typing import Optional, Sequence

import pytest
import torch
import torch.multiprocessing as mp
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict

import ltmm.det  # noqa: F401  (registers the modules)

from ..helpers import REPO, free_port, gloo_process_group, run, tool
from .loss_checks import check_bf16_autocast, check_loss_scaled_low_precision, close, loss_and_grad, ref_loss_and_grad

C = 5  # foreground classes; label C = background


def efl(**kwargs) -> torch.nn.Module:
    cfg = dict(type='EqualizedFocalLoss', num_classes=C, use_sigmoid=True, num_levels=1)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def official_efl(z: torch.Tensor, labels: Sequence[int], pos_neg: torch.Tensor, normalizer: Optional[float] = None,
                 focal_gamma: float = 2.0, focal_alpha: float = 0.25, scale_factor: float = 8.0) -> torch.Tensor:
    """``EqualizedFocalLoss.forward`` (efl.py l.54-97) line by line, in EOD's label convention: background 0,
    foreground 1..C, ignored -1 (mmdet's ``label_weights`` 0 here). ``labels`` are mmdet's (C = background, -1 =
    ignored)."""
    target = torch.tensor([0 if y == C else (-1 if y < 0 else y + 1) for y in labels])
    n_i, n_c = z.shape
    expand_target = z.new_zeros(n_i, n_c + 1)
    expand_target[torch.arange(n_i), target] = 1  # -1 sets the last column, dropped with the mask below
    expand_target = expand_target[:, 1:]
    sample_mask = target != -1
    inputs = z[sample_mask]
    targets = expand_target[sample_mask]
    pred = torch.sigmoid(inputs)
    pred_t = pred * targets + (1 - pred) * (1 - targets)
    map_val = 1 - pos_neg.detach()
    dy_gamma = focal_gamma + scale_factor * map_val
    ff = dy_gamma.view(1, -1).expand(n_i, n_c)[sample_mask]
    wf = ff / focal_gamma
    ce_loss = -torch.log(pred_t)
    cls_loss = ce_loss * torch.pow((1 - pred_t), ff.detach()) * wf.detach()
    if focal_alpha >= 0:
        alpha_t = focal_alpha * targets + (1 - focal_alpha) * (1 - targets)
        cls_loss = alpha_t * cls_loss
    if normalizer is None:
        normalizer = 1.0
    return cls_loss.sum() / normalizer


def official_statistics(grad: torch.Tensor, labels: Sequence[int]):
    """``collect_grad`` (efl.py l.99-118) on the gradient of the loss w.r.t. the logits: |grad| summed over the
    positive and the negative entries of the non-ignored anchors."""
    target = torch.zeros_like(grad)
    keep = torch.tensor([y >= 0 for y in labels])
    for i, y in enumerate(labels):
        if 0 <= y < C:
            target[i, y] = 1
    g = grad.abs()[keep]
    return (g * target[keep]).sum(0), (g * (1 - target[keep])).sum(0)


def module_inputs(labels: Sequence[int]):
    """mmdet's form of ``labels`` with ignored anchors: label C and weight 0."""
    weights = torch.tensor([0.0 if y < 0 else 1.0 for y in labels])
    return torch.tensor([C if y < 0 else y for y in labels]), weights


LABELS = [0, 5, 5, 1, 5, 2, 5, -1, 3, 5, 0, 4, 5, -1]
POS_NEG = torch.tensor([1.0, 0.6, 0.05, 0.0, 0.3], dtype=torch.float64)


@pytest.mark.parametrize('scale', [0.5, 3.0, 12.0])
@pytest.mark.parametrize('avg_factor', [None, 4.0, 0.0])
def test_value_gradient_and_statistics_vs_official(scale: float, avg_factor: Optional[float]):
    gen = torch.Generator().manual_seed(int(scale * 10))
    z = torch.randn(len(LABELS), C, generator=gen) * scale - 2
    labels, weights = module_inputs(LABELS)
    loss_cls = efl(loss_weight=1.5)
    loss_cls.pos_neg.copy_(POS_NEG)
    x = z.clone().requires_grad_()
    loss = loss_cls(x, labels, weights, avg_factor=avg_factor)
    loss.backward()
    normalizer = None if avg_factor is None else max(avg_factor, 1.0)  # official get_ave_normalizer floors at 1
    ref_loss, ref_grad = ref_loss_and_grad(lambda t: 1.5 * official_efl(t, LABELS, POS_NEG, normalizer), z)
    close(loss, ref_loss, rtol=1e-5)
    close(x.grad, ref_grad, rtol=1e-5, atol=1e-8)
    # the statistics of this iteration: the official collect_grad on the gradient of the final loss
    pos, neg = official_statistics(ref_grad, LABELS)
    close(loss_cls.pos_grad, pos, rtol=1e-5, atol=1e-9)
    close(loss_cls.neg_grad, neg, rtol=1e-5, atol=1e-9)
    close(loss_cls.pos_neg, (pos / (neg + 1e-10)).clamp(0, 1), rtol=1e-5, atol=1e-9)


def test_saturated_logits_stay_finite():
    """The official -log(sigmoid(z)) is inf for saturated logits; log-sigmoids keep loss and gradient finite."""
    z = torch.tensor([[-120.0, 90.0, 0.0, 3.0, -3.0]])
    loss, grad = loss_and_grad(efl(), z, torch.tensor([0]))
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert loss > 100 * 0.25  # the positive at -120: alpha * 120 * (1 - p)^2, (1 - p) = 1


def test_hand_computed_two_iterations():
    """One anchor, two classes, logits 0 (p = 1/2). Iteration 1, label 0, every gamma 2 and weight 1:
    pos grad of class 0 = 0.25 * 0.5^2 * (0.5 + 2 * 0.5 ln 2), neg grad of class 1 = 0.75 * 0.5^2 * (0.5 + ln 2);
    so g = (1, 0), gamma = (2, 10), weights (1, 5). Iteration 2, label 1: loss = 0.75 * 0.5^2 ln 2 (class 0,
    negative) + 0.25 * 5 * 0.5^10 ln 2 (class 1, positive)."""
    loss_cls = MODELS.build(dict(type='EqualizedFocalLoss', num_classes=2, num_levels=1))
    z = torch.zeros(1, 2)
    ln2 = math.log(2)
    first = loss_cls(z, torch.tensor([0]))
    assert first.item() == pytest.approx(0.25 * 0.25 * ln2 + 0.75 * 0.25 * ln2)
    torch.testing.assert_close(loss_cls.pos_grad, torch.tensor([0.0625 * (0.5 + ln2), 0.0], dtype=torch.float64))
    torch.testing.assert_close(loss_cls.neg_grad, torch.tensor([0.0, 0.1875 * (0.5 + ln2)], dtype=torch.float64))
    assert loss_cls.pos_neg.tolist() == [1.0, 0.0]
    second = loss_cls(z, torch.tensor([1]))
    assert second.item() == pytest.approx(0.75 * 0.25 * ln2 + 0.25 * 5 * 0.5 ** 10 * ln2)


def test_statistics_update_once_per_iteration_over_the_levels():
    """With 3 FPN levels the statistics change after the third call only, equal to one call on the concatenated
    anchors (the official loss concatenates the levels); every level of an iteration uses the previous statistics."""
    gen = torch.Generator().manual_seed(3)
    levels = [(torch.randn(n, C, generator=gen) * 2, torch.randint(0, C + 1, (n,), generator=gen)) for n in (9, 5, 2)]
    per_level, concat = efl(num_levels=3), efl()
    per_level.pos_neg.copy_(POS_NEG)
    concat.pos_neg.copy_(POS_NEG)
    for _ in range(2):
        before = per_level.pos_neg.clone()
        losses = []
        for z, y in levels:
            assert torch.equal(per_level.pos_neg, before)
            losses.append(per_level(z, y, avg_factor=4.0))
        whole = concat(torch.cat([z for z, _ in levels]), torch.cat([y for _, y in levels]), avg_factor=4.0)
        close(sum(losses), whole, rtol=1e-6)
        for key in ('pos_grad', 'neg_grad', 'pos_neg'):
            close(per_level.state_dict()[key], concat.state_dict()[key], rtol=1e-6, atol=1e-12)
        assert not torch.equal(per_level.pos_neg, before)


def test_eval_mode_keeps_the_statistics():
    loss_cls = efl()
    loss_cls.eval()
    loss_cls(torch.randn(4, C), torch.tensor([0, 1, 5, 5]))
    assert loss_cls.pos_grad.sum() == 0 and loss_cls.neg_grad.sum() == 0 and (loss_cls.pos_neg == 1).all()


def test_all_background_batch():
    """No positives: the loss is the negatives' focal term, finite (avg_factor 0 is floored at 1); no positive
    gradient, so every class's ratio drops to 0 (gamma = 2 + 8)."""
    z = torch.randn(6, C, generator=torch.Generator().manual_seed(1))
    labels = torch.full((6,), C)
    loss_cls = efl()
    loss, grad = loss_and_grad(loss_cls, z, labels)
    ref_loss, ref_grad = ref_loss_and_grad(lambda t: official_efl(t, [C] * 6, torch.ones(C)), z)
    close(loss, ref_loss, rtol=1e-5)
    close(grad, ref_grad, rtol=1e-5, atol=1e-8)
    assert (loss_cls.pos_grad == 0).all() and (loss_cls.neg_grad > 0).all() and (loss_cls.pos_neg == 0).all()
    assert torch.isfinite(loss_cls(z, labels, avg_factor=0))
    empty = efl()(torch.zeros(0, C), torch.zeros(0, dtype=torch.long), avg_factor=0)
    assert empty.item() == 0


def test_checkpoint_round_trip(tmp_path: Path):
    """The statistics are float64 buffers in the state dict; a fresh module loading them gives the same loss."""
    gen = torch.Generator().manual_seed(5)
    trained = efl()
    for _ in range(3):
        trained(torch.randn(8, C, generator=gen) * 2, torch.randint(0, C + 1, (8,), generator=gen))
    state = trained.state_dict()
    assert set(state) == {'pos_grad', 'neg_grad', 'pos_neg'} and all(v.dtype == torch.float64 for v in state.values())
    torch.save(dict(state_dict=state), tmp_path / 'ckpt.pth')
    fresh = efl()
    fresh.load_state_dict(torch.load(tmp_path / 'ckpt.pth')['state_dict'])
    for key, value in state.items():
        assert torch.equal(fresh.state_dict()[key], value), key
    z, y = torch.randn(8, C, generator=gen), torch.randint(0, C + 1, (8,), generator=gen)
    trained.eval()
    fresh.eval()
    assert torch.equal(trained(z, y), fresh(z, y))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision(dtype):
    gen = torch.Generator().manual_seed(2)
    labels = torch.tensor([0, 5, 5, 2, 5, 4, 5, 1])
    z = (torch.randn(len(labels), C, generator=gen) * 4 - 3).to(dtype)

    def make():
        loss_cls = efl()
        loss_cls.pos_neg.copy_(POS_NEG)
        return loss_cls
    check_loss_scaled_low_precision(make, z, labels, scale=1024.0)
    check_bf16_autocast(make, C, labels)


def test_errors():
    with pytest.raises(ValueError, match='use_sigmoid must be True'):
        efl(use_sigmoid=False)
    with pytest.raises(ValueError, match='num_classes must be >= 1, got 0'):
        efl(num_classes=0)
    with pytest.raises(ValueError, match='num_levels must be >= 1, got 0'):
        efl(num_levels=0)
    with pytest.raises(ValueError, match=r'cls_score must be \(N, num_classes=5\).*\(3, 6\)'):
        efl()(torch.zeros(3, C + 1), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 5\].*\[-1, 5\]'):
        efl()(torch.zeros(3, C), torch.tensor([-1, 5, 0]))
    with pytest.raises(ValueError, match=r'label_weights must be one weight per anchor \(3,\), got \(3, 5\)'):
        efl()(torch.zeros(3, C), torch.tensor([1, 5, 0]), torch.ones(3, C))
    with pytest.raises(ValueError, match="reduction_override='none'"):
        efl()(torch.zeros(3, C), torch.tensor([1, 5, 0]), reduction_override='none')


# --- two gloo ranks ---------------------------------------------------------------------------------------------

ITERATIONS = 3
LEVELS = (7, 3)


def rank_level(rank: int, iteration: int, level: int):
    """One rank's anchors at one FPN level and iteration: a different number per rank, with positives and
    background."""
    gen = torch.Generator().manual_seed(1000 * rank + 10 * iteration + level)
    n = LEVELS[level] + 2 * rank
    labels = torch.randint(0, C + 1, (n,), generator=gen)
    labels[-1] = C
    return torch.randn(n, C, generator=gen) * 3 - 1, labels


def dist_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    with gloo_process_group(rank, world_size, port):
        loss_cls = efl(num_levels=len(LEVELS))
        for it in range(ITERATIONS):
            for level in range(len(LEVELS)):
                loss_cls(*rank_level(rank, it, level), avg_factor=3.0)
        torch.save(loss_cls.state_dict(), Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks(tmp_path: Path):
    mp.start_processes(dist_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    states = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    for key in ('pos_grad', 'neg_grad', 'pos_neg'):
        assert torch.equal(states[0][key], states[1][key]), key
    # one process over both ranks' anchors at every level and iteration (the same normaliser)
    single = efl(num_levels=len(LEVELS))
    alone = efl(num_levels=len(LEVELS))
    for it in range(ITERATIONS):
        for level in range(len(LEVELS)):
            (z0, y0), (z1, y1) = rank_level(0, it, level), rank_level(1, it, level)
            single(torch.cat([z0, z1]), torch.cat([y0, y1]), avg_factor=3.0)
            alone(z0, y0, avg_factor=3.0)
    for key, value in single.state_dict().items():
        torch.testing.assert_close(states[0][key], value, rtol=1e-5, atol=1e-12, msg=key)
    assert not torch.allclose(states[0]['pos_grad'], alone.pos_grad)


# --- mmdet heads and configs ------------------------------------------------------------------------------------

def dense_head(head_type: str):
    cfg = dict(
        type=head_type, num_classes=C, in_channels=8, feat_channels=8, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], scales=[4], strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='EqualizedFocalLoss', num_classes=C, use_sigmoid=True),
        train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False),
        test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.0001, nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=20))
    if head_type == 'ATSSHead':
        cfg.update(norm_cfg=dict(type='GN', num_groups=4, requires_grad=True), loss_bbox=dict(type='GIoULoss'))
    else:
        cfg['train_cfg'] = dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                                              ignore_iof_thr=-1),
                                sampler=dict(type='PseudoSampler'), allowed_border=-1, pos_weight=-1, debug=False)
    return MODELS.build(ConfigDict(cfg))


@pytest.mark.parametrize('head_type', ['RetinaHead', 'ATSSHead'])
def test_dense_head_trains_and_predicts(head_type: str):
    """mmdet's one-stage head builds C sigmoid channels from ``use_sigmoid``, calls the loss once per FPN level
    (5 levels: one statistics update per iteration), and predicts with the sigmoid."""
    from mmengine.structures import InstanceData

    torch.manual_seed(0)
    head = dense_head(head_type)
    head.init_weights()
    assert head.cls_out_channels == C and head.use_sigmoid_cls
    img_metas = [dict(img_shape=(128, 128), pad_shape=(128, 128), scale_factor=(1.0, 1.0))]
    feats = [torch.randn(1, 8, 128 // s, 128 // s) for s in (8, 16, 32, 64, 128)]
    gt = InstanceData(bboxes=torch.tensor([[10.0, 12.0, 50.0, 60.0], [60.0, 40.0, 120.0, 100.0]]),
                      labels=torch.tensor([1, 3]))
    calls = []
    head.loss_cls.register_forward_hook(lambda module, args, output: calls.append(module.pos_neg.clone()))
    for _ in range(2):
        losses = head.loss_by_feat(*head(feats), [gt], img_metas)
        total = sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if k.startswith('loss'))
        assert torch.isfinite(total)
        total.backward()
    assert len(calls) == 10
    assert all(torch.equal(c, calls[0]) for c in calls[:4])  # first iteration: the statistics of before it
    assert not torch.equal(calls[4], calls[0]) and all(torch.equal(c, calls[4]) for c in calls[5:9])
    assert (head.loss_cls.pos_grad[[1, 3]] > 0).all() and (head.loss_cls.pos_grad[[0, 2, 4]] == 0).all()
    head.eval()
    with torch.no_grad():
        result = head.predict_by_feat(*head(feats), batch_img_metas=img_metas, rescale=False)[0]
    assert 0 < len(result.scores) <= 20 and (result.scores <= 1).all() and (result.labels < C).all()


LVIS_CONFIGS = sorted((REPO / 'configs' / 'efl').glob('*_lvis-v1.py'))


def test_lvis_configs_follow_the_official_recipe():
    """ModelTC/EOD configs/det/efl/efl_improved_baseline_r{50,101}_2x_rfs.yaml, as far as mmdet allows."""
    assert [p.name for p in LVIS_CONFIGS] == ['atss_r101_fpn_efl_sample1e-3-ms-2x_lvis-v1.py',
                                              'atss_r50_fpn_efl_sample1e-3-ms-2x_lvis-v1.py',
                                              'retinanet_r50_fpn_efl_sample1e-3-ms-2x_lvis-v1.py']
    for path in LVIS_CONFIGS:
        cfg = Config.fromfile(str(path))
        head = cfg.model.bbox_head
        assert head.num_classes == 1203
        assert head.loss_cls == dict(type='EqualizedFocalLoss', num_classes=1203, use_sigmoid=True, focal_gamma=2.0,
                                     focal_alpha=0.25, scale_factor=8.0, num_levels=5, loss_weight=1.0)
        assert head.init_cfg.override.bias_prob == 0.001  # official init_prior
        assert cfg.model.backbone.depth == (101 if '_r101_' in path.name else 50)
        assert cfg.model.test_cfg.nms.iou_threshold == 0.5 and cfg.model.test_cfg.max_per_img == 300
        assert cfg.model.test_cfg.nms_pre == 6000 and cfg.model.test_cfg.score_thr == 0.0001
        data = cfg.train_dataloader.dataset
        assert data.type == 'ClassBalancedDataset' and data.oversample_thr == 1e-3
        assert data.dataset.type == 'LVISV1Dataset' and data.dataset.ann_file.endswith('lvis_v1_train.json')
        for pipeline in (data.dataset.pipeline, cfg.val_dataloader.dataset.pipeline,
                         cfg.test_dataloader.dataset.pipeline):
            assert not any(t.get('with_mask') for t in pipeline)
        assert cfg.val_evaluator.metric == 'bbox' and cfg.val_evaluator.type == 'FastLVISMetric'
        assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16
        assert cfg.optim_wrapper.optimizer.lr == 0.02 and cfg.optim_wrapper.clip_grad.max_norm == 35
        warmup, steps = cfg.param_scheduler
        assert (warmup.type, warmup.start_factor, warmup.by_epoch, warmup.end) == ('LinearLR', 0.001, True, 1)
        assert steps.milestones == [16, 22] and cfg.train_cfg.max_epochs == 24 and cfg.train_cfg.val_interval == 24
        if path.name.startswith('atss'):
            assert head.type == 'ATSSHead' and head.norm_cfg.type == 'GN'
            assert head.anchor_generator.scales == [6, 8] and head.anchor_generator.ratios == [1.0]
            assert cfg.model.train_cfg.assigner.topk == 18
            assert head.loss_bbox == dict(type='GIoULoss', loss_weight=1.0)
            assert cfg.model.neck.add_extra_convs == 'on_lateral'
            assert cfg.model.backbone.frozen_stages == 1 and not cfg.model.backbone.norm_cfg.requires_grad
        else:
            assert head.type == 'RetinaHead'


@pytest.mark.slow
def test_lvis_atss_head_builds_and_steps():
    """The official-recipe ATSS head with 1,203 classes: C channels, one loss step over 5 levels, finite."""
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    cfg = Config.fromfile(str(REPO / 'configs/efl/atss_r50_fpn_efl_sample1e-3-ms-2x_lvis-v1.py'))
    with DefaultScope.overwrite_default_scope('mmdet'):
        head = MODELS.build(dict(cfg.model.bbox_head, train_cfg=cfg.model.train_cfg, test_cfg=cfg.model.test_cfg))
    head.init_weights()
    assert head.cls_out_channels == 1203 and head.num_base_priors == 2
    assert head.atss_cls.bias.mean().item() == pytest.approx(-math.log(999), rel=1e-5)
    img_metas = [dict(img_shape=(128, 160), pad_shape=(128, 160), scale_factor=(1.0, 1.0))]
    feats = [torch.randn(1, 256, math.ceil(128 / s), math.ceil(160 / s)) for s in (8, 16, 32, 64, 128)]
    gt = InstanceData(bboxes=torch.tensor([[10.0, 12.0, 90.0, 100.0]]), labels=torch.tensor([1100]))
    losses = head.loss_by_feat(*head(feats), [gt], img_metas)
    total = sum(sum(v) for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    assert head.loss_cls.pos_grad[1100] > 0 and head.loss_cls.pos_neg[1100] == 1


@pytest.mark.slow
def test_lt_shapes_config_trains_on_cpu(det_workspace: Path, tmp_path: Path):
    """Two iterations of the LT-Shapes RetinaNet with EFL through tools/train.py: finite losses, and the statistics
    in the checkpoint."""
    work_dir = tmp_path / 'work'
    config = REPO / 'configs/efl/retinanet_r18-tiny_fpn_efl_lt-shapes.py'
    run(tool('train.py', str(config), '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
             'default_hooks.logger.interval=1'), cwd=det_workspace)
    logs = [json.loads(line) for line in next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert len(logs) == 2
    for entry in logs:
        assert {'loss', 'loss_cls', 'loss_bbox'} <= set(entry)
        assert all(math.isfinite(entry[k]) for k in ('loss', 'loss_cls', 'loss_bbox'))
    state = torch.load(work_dir / 'epoch_1.pth', map_location='cpu', weights_only=False)['state_dict']
    assert state['bbox_head.loss_cls.pos_grad'].sum() > 0 and state['bbox_head.loss_cls.neg_grad'].sum() > 0
    assert state['bbox_head.loss_cls.pos_neg'].shape == (30,)


def test_lt_shapes_config():
    """A one-stage RetinaNet of the demo detector's sizes, boxes only."""
    cfg = Config.fromfile(str(REPO / 'configs/efl/retinanet_r18-tiny_fpn_efl_lt-shapes.py'))
    assert (cfg.model.type, cfg.model.bbox_head.loss_cls.type, cfg.val_evaluator.metric) == (
        'RetinaNet', 'EqualizedFocalLoss', 'bbox')
    assert cfg.model.backbone.base_channels == 16 and cfg.model.neck.out_channels == 64
    assert not any(t.get('with_mask') for t in cfg.train_dataloader.dataset.pipeline)
    # 12 epochs, lr / 10 for the last (the demo Mask R-CNN's 4 leave this RetinaNet on the focal loss's plateau)
    assert cfg.train_cfg.max_epochs == cfg.train_cfg.val_interval == 12
    assert cfg.param_scheduler[1].milestones == [11] and cfg.param_scheduler[1].end == 12
