"""BAGS (``BalancedGroupSoftmaxLoss``, ``FreezeAllButHook``): the loss against a naive transcription of the official
``GSBBoxHeadWith0`` (FishYuLi/BalancedGroupSoftmax mmdet/models/bbox_heads/gs_bbox_head_with0.py with the tables of
tools/lvis_analyse.py ``get_cate_gs``: value and gradient, with the "others" the module drew), the groups of hand
counts, the seeded "others" subsampling (determinism, ratio, resume), the test scores through the bbox head against
the official ``_merge_score``, all-background and empty batches, fp16 / bf16, the errors, the fc_cls-only hook and a
CPU run of the LT-Shapes stage 2 on a stage-1 checkpoint."""
import json
from pathlib import Path
from types import SimpleNamespace
from typing import List, Sequence

import numpy as np
import pytest
import torch
from mmdet.registry import HOOKS, MODELS

import ltmm.det  # noqa: F401  (registers the modules)
from ltmm.det.losses.balanced_group_softmax_loss import bags_groups, bags_layout, sample_others

from ..helpers import REPO, run, tool
from .loss_checks import check_bf16_autocast, check_loss_scaled_low_precision, close, loss_and_grad, ref_loss_and_grad
from .test_losses import build_head, head_inputs, head_loss_inputs, predict_scores

# 8 classes across the official bins: 0 and 9 (< 10), 10 and 99, 100 and 999, 1000 and 5000 (>= 1000); the groups
# interleave so that the in-group order (class index) differs from the class order
COUNTS = [1000, 0, 10, 100, 9, 5000, 999, 99]
GROUPS = [4, 1, 2, 3, 1, 4, 3, 2]
C = len(COUNTS)
WIDTH = C + 6


def stats(counts: Sequence[int] = COUNTS) -> dict:
    return dict(num_images=100, image_count=[max(n // 3, 1) for n in counts], instance_count=list(counts))


def bags(**kwargs) -> torch.nn.Module:
    cfg = dict(type='BalancedGroupSoftmaxLoss', num_classes=C, class_stats=stats())
    cfg.update(kwargs)
    return MODELS.build(cfg)


def official_tables(counts: Sequence[int]):
    """``get_cate_gs`` (tools/lvis_analyse.py l.11-56) with v1.0rc0 labels (0 = background, class c -> c + 1):
    ``label2binlabel`` (5 x (C+1)) and ``pred_slice`` (5 x [start, length])."""
    binlabel_count = [1, 1, 1, 1, 1]
    label2binlabel = np.zeros((5, len(counts) + 1), dtype=np.int64)
    label2binlabel[0, 1:] = binlabel_count[0]
    binlabel_count[0] += 1
    for cid, ins_count in enumerate(counts, start=1):
        if ins_count < 10:
            label2binlabel[1, cid] = binlabel_count[1]
            binlabel_count[1] += 1
        elif ins_count < 100:
            label2binlabel[2, cid] = binlabel_count[2]
            binlabel_count[2] += 1
        elif ins_count < 1000:
            label2binlabel[3, cid] = binlabel_count[3]
            binlabel_count[3] += 1
        else:
            label2binlabel[4, cid] = binlabel_count[4]
            binlabel_count[4] += 1
    pred_slice = np.zeros((5, 2), dtype=np.int64)
    start_idx = 0
    for i, bincount in enumerate(binlabel_count):
        pred_slice[i] = start_idx, bincount
        start_idx += bincount
    return torch.from_numpy(label2binlabel), torch.from_numpy(pred_slice)


def v1_labels(labels: torch.Tensor) -> torch.Tensor:
    """mmdet 3.x labels (classes 0..C-1, background C) -> v1.0rc0 (background 0, class c -> c + 1)."""
    return torch.where(labels == C, torch.zeros_like(labels), labels + 1)


def official_loss(cls_score: torch.Tensor, labels: Sequence[int], counts: Sequence[int],
                  weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """``GSBBoxHeadWith0.loss`` (``_remap_labels``, ``_slice_preds``, one ``CrossEntropyLoss`` per bin with
    ``avg_factor = max(sum(weight), 1)``, summed by the optimiser), with the given per-bin weights (the official
    draws them with numpy)."""
    label2binlabel, pred_slice = official_tables(counts)
    old = v1_labels(torch.tensor(list(labels)))
    total = cls_score.new_zeros(())
    for i in range(5):
        new_bin_label = label2binlabel[i][old]
        start, length = pred_slice[i].tolist()
        sliced_pred = cls_score.narrow(1, start, length)
        log_p = sliced_pred - sliced_pred.exp().sum(dim=1, keepdim=True).log()
        ce = -log_p[torch.arange(len(old)), new_bin_label]
        w = weights[i].double()
        total = total + (ce * w).sum() / max(w.sum().item(), 1.0)
    return total


def official_merge_score(cls_score: torch.Tensor, counts: Sequence[int]) -> torch.Tensor:
    """``GSBBoxHeadWith0._merge_score`` (the one ``get_det_bboxes`` uses), v1.0rc0 layout (N, C+1), background 0,
    with ``fg_splits`` from ``get_split``."""
    _, pred_slice = official_tables(counts)
    num_proposals = cls_score.shape[0]
    new_scores = [torch.softmax(cls_score.narrow(1, s, n), dim=1) for s, n in pred_slice.tolist()]
    bg_score, fg_score = new_scores[0], new_scores[1:]
    fg_splits = [[cid for cid, n in enumerate(counts, start=1) if lo <= n < hi]
                 for lo, hi in ((0, 10), (10, 100), (100, 1000), (1000, float('inf')))]
    fg_merge = cls_score.new_zeros((num_proposals, C + 1))
    merge = cls_score.new_zeros((num_proposals, C + 1))
    for i, split in enumerate(fg_splits):
        fg_merge[:, split] = fg_score[i][:, 1:]
    fg_merge = bg_score.narrow(1, 1, 1) * fg_merge
    merge[:, 0] = bg_score[:, 0]
    merge[:, 1:] = fg_merge[:, 1:]
    return merge


def drawn_weights(module: torch.nn.Module, labels: torch.Tensor) -> List[torch.Tensor]:
    """The group weights the module's next call will use (the call index is put back)."""
    calls = module.num_calls.clone()
    _, weights = module.group_targets(labels)
    module.num_calls.copy_(calls)
    return weights


# ------------------------------------------------------------------------- groups and layout

def test_groups_and_layout_of_hand_counts():
    assert bags_groups(COUNTS).tolist() == GROUPS
    assert bags_groups([9, 10, 29, 30], bin_edges=(10, 30)).tolist() == [1, 2, 2, 3]
    module = bags()
    # [bg, fg] | [others, class 1, class 4] | [others, 2, 7] | [others, 3, 6] | [others, 0, 5]
    assert module.slices == [(0, 2), (2, 3), (5, 3), (8, 3), (11, 3)]
    assert module.class_column.tolist() == [12, 3, 6, 9, 4, 13, 10, 7]
    assert module.get_cls_channels(C) == WIDTH
    label2binlabel, pred_slice = official_tables(COUNTS)
    assert [tuple(s) for s in pred_slice.tolist()] == module.slices
    # ours indexes mmdet 3.x labels (background last), the official v1.0rc0 ones (background first)
    assert torch.equal(module.group_label[:, :C], label2binlabel[:, 1:])
    assert torch.equal(module.group_label[:, C], label2binlabel[:, 0])
    # a group without classes keeps its "others" column (official: C + 1 + 5 columns whatever the counts)
    slices, _, _ = bags_layout(np.array([1, 1, 2]), 4)
    assert slices == [(0, 2), (2, 3), (5, 2), (7, 1), (8, 1)]
    assert bags(class_stats=stats([3] * C)).get_cls_channels(C) == WIDTH


def test_groups_read_instance_counts_not_image_counts():
    module = bags(class_stats=dict(num_images=100, image_count=[5] * C, instance_count=COUNTS))
    assert module.groups.tolist() == GROUPS


# ------------------------------------------------------------------------- the loss

LABELS = [[0, 8, 8, 1, 5, 8, 8, 2, 8, 8, 8, 3, 8, 7, 8, 8, 4, 8, 6, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
          [8] * 12, [1, 4, 1, 6, 0]]


@pytest.mark.parametrize('scale', [0.5, 4.0])
@pytest.mark.parametrize('labels', LABELS, ids=['mixed', 'background_only', 'foreground_only'])
def test_value_and_gradient_vs_official(labels: List[int], scale: float):
    gen = torch.Generator().manual_seed(len(labels) + int(scale))
    z = torch.randn(len(labels), WIDTH, generator=gen) * scale
    labels_t = torch.tensor(labels)
    for kwargs in (dict(), dict(others_sample_ratio=1.0), dict(others_sample_ratio=0.0)):
        module = bags(**kwargs)
        weights = drawn_weights(module, labels_t)
        loss, grad = loss_and_grad(module, z, labels_t)
        ref_loss, ref_grad = ref_loss_and_grad(official_loss, z, labels, COUNTS, weights)
        close(loss, ref_loss, rtol=1e-5)
        close(grad, ref_grad, rtol=1e-5, atol=1e-7)
    loss2, grad2 = loss_and_grad(bags(loss_weight=2.5), z, labels_t)
    close(loss2, 2.5 * loss_and_grad(bags(), z, labels_t)[0])
    close(grad2, 2.5 * loss_and_grad(bags(), z, labels_t)[1])


def test_background_only_batch_trains_group_zero_only():
    """No group has a positive: the foreground groups train on nothing; group 0 is a plain softmax CE towards
    background over every RoI."""
    z = torch.randn(6, WIDTH, generator=torch.Generator().manual_seed(1)) * 3
    labels = torch.full((6,), C)
    loss, grad = loss_and_grad(bags(), z, labels)
    close(loss, torch.nn.functional.cross_entropy(z[:, :2].double(), torch.zeros(6, dtype=torch.long)), rtol=1e-6)
    assert (grad[:, 2:] == 0).all() and (grad[:, 0] < 0).all()


def test_empty_batch():
    loss, grad = loss_and_grad(bags(), torch.zeros(0, WIDTH), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0 and grad.shape == (0, WIDTH)


def test_hand_case():
    """Zero logits, one RoI of class 1 (group 1, 3 columns) and one background RoI, ratio 8 (the background RoI is
    group 1's only "other", so it is kept): group 0 = ln 2, group 1 = (ln 3 + ln 3) / 2, the other groups 0."""
    loss = bags()(torch.zeros(2, WIDTH), torch.tensor([1, C]))
    assert loss.item() == pytest.approx(np.log(2) + np.log(3), rel=1e-6)


# ------------------------------------------------------------------------- the "others" subsampling

def test_sample_others_ratio_and_edge_cases():
    gen = torch.Generator().manual_seed(0)
    labels = torch.tensor([0] * 40 + [1, 2, 3])  # 3 positives, 40 others
    for ratio, expected in ((8.0, 3 + 24), (2.5, 3 + 7), (0.0, 3), (20.0, 43)):
        keep = sample_others(labels, ratio, gen)
        assert keep.sum().item() == expected and (keep[40:] == 1).all()
    assert sample_others(torch.zeros(10, dtype=torch.long), 8.0, gen).sum().item() == 0  # no positive
    draws = torch.stack([sample_others(labels, 8.0, gen)[:40] for _ in range(300)])
    assert 0.5 < draws.mean(0).min() and draws.mean(0).max() < 0.7, 'uniform over the others (24 / 40)'


def test_sampling_is_seeded_per_call_rank_and_resumable(monkeypatch):
    labels = torch.tensor([C] * 60 + [1, 2, 3, 0])

    def draws(module, calls):
        return [torch.stack(module.group_targets(labels)[1]) for _ in range(calls)]

    first = draws(bags(), 5)
    assert all(torch.equal(a, b) for a, b in zip(first, draws(bags(), 5))), 'same seed, same draws'
    assert not torch.equal(first[0], first[1]), 'each call draws anew'
    assert not torch.equal(first[0], draws(bags(seed=1), 1)[0]), 'another seed, other draws'
    from ltmm.det.losses import balanced_group_softmax_loss as bags_module
    with monkeypatch.context() as patch:
        patch.setattr(bags_module.dist, 'get_rank', lambda *args, **kwargs: 1)
        assert not torch.equal(first[0], draws(bags(), 1)[0]), 'another rank, other draws'
    for w in first:  # groups 1 to 4 have one positive each (classes 1, 2, 3, 0) -> 8 others
        assert w[0].sum() == 64 and w[1].sum() == 9 and w[2].sum() == 9 and w[3].sum() == 9 and w[4].sum() == 9
    module = bags()
    draws(module, 3)
    state = module.state_dict()
    assert int(state['num_calls']) == 3 and set(state) == {'num_calls'}
    fresh = bags()
    fresh.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(draws(fresh, 2), first[3:]))


# ------------------------------------------------------------------------- precision and errors

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_inputs_under_a_loss_scale(dtype):
    gen = torch.Generator().manual_seed(5)
    labels = torch.randint(0, C + 1, (256,), generator=gen)
    z_low = (torch.randn(256, WIDTH, generator=gen) * 8).to(dtype)
    check_loss_scaled_low_precision(bags, z_low, labels, 2.0 ** 14)


def test_bf16_autocast():
    check_bf16_autocast(bags, WIDTH, torch.tensor([0, 1, 2, 8, 8, 4]))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='8 classes but num_classes=7'):
        bags(num_classes=7)
    for edges in ((), (100, 10), (0, 10), (10, 10)):
        with pytest.raises(ValueError, match='bin_edges'):
            bags(bin_edges=edges)
    with pytest.raises(ValueError, match='others_sample_ratio'):
        bags(others_sample_ratio=-1.0)
    module = bags()
    with pytest.raises(ValueError, match=f'expected {WIDTH} logits .* got {C + 1}'):
        module(torch.zeros(2, C + 1), torch.tensor([0, C]))
    with pytest.raises(ValueError, match=r'0\.\.8 .* got \[0, 9\]'):
        module(torch.zeros(2, WIDTH), torch.tensor([0, 9]))
    with pytest.raises(ValueError, match='none'):
        module(torch.zeros(2, WIDTH), torch.tensor([0, C]), reduction_override='none')
    with pytest.raises(ValueError, match='num_classes=9'):
        module.get_cls_channels(9)


# ------------------------------------------------------------------------- the bbox head: training and test scores

def head_cfg() -> dict:
    return dict(type='BalancedGroupSoftmaxLoss', num_classes=C, class_stats=stats())


def test_head_scores_are_the_official_merge():
    """``get_activation`` through ``predict_by_feat``: the official ``_merge_score`` with the background moved last;
    the class scores of a RoI do not sum to ``p_0(fg)`` (no renormalisation)."""
    from mmengine.config import ConfigDict

    head = build_head(head_cfg(), num_classes=C).eval()
    assert head.fc_cls.out_features == WIDTH
    feats, rois = head_inputs(5)
    with torch.no_grad():
        head.fc_cls.weight.normal_(0, 1)  # spread the scores
        cls_score, result = predict_scores(head, feats, rois)
        merge = official_merge_score(cls_score.double(), COUNTS)
        want = torch.cat([merge[:, 1:], merge[:, :1]], dim=1)
        close(result.scores, want, rtol=1e-6)
        close(head.loss_cls.get_activation(cls_score), want, rtol=1e-6)
        fg = torch.softmax(cls_score.double()[:, :2], dim=1)[:, 1]
        assert not torch.allclose(want[:, :C].sum(dim=1), fg, atol=1e-3)
        _, dets = predict_scores(head, feats, rois, ConfigDict(score_thr=0.0, max_per_img=100,
                                                               nms=dict(type='nms', iou_threshold=0.5)))
    assert dets.labels.max() < C
    assert dets.scores.max().item() == pytest.approx(want[:, :C].max().item(), rel=1e-6)


def test_head_loss_and_accuracy():
    head = build_head(head_cfg(), num_classes=C)
    feats, _ = head_inputs(2)
    labels = torch.tensor([0, 1, C, C, 2, 5])
    cls_score, bbox_pred = head(feats)
    weights = drawn_weights(head.loss_cls, labels)
    losses = head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels, num_classes=C))
    assert {'loss_cls', 'acc_objectness', 'acc_classes', 'loss_bbox'} <= set(losses)
    close(losses['loss_cls'], official_loss(cls_score.detach().double(), labels.tolist(), COUNTS, weights), rtol=1e-5)
    # accuracies by hand: group 0 argmax; top-1 of the merged scores on the foreground RoIs
    z = cls_score.detach()
    assert losses['acc_objectness'].item() == pytest.approx(
        100 * ((z[:, 0] >= z[:, 1]) == (labels == C)).float().mean().item())
    scores = official_merge_score(z.double(), COUNTS)[:, 1:]
    fg = labels < C
    assert losses['acc_classes'].item() == pytest.approx(
        100 * (scores[fg].argmax(dim=1) == labels[fg]).float().mean().item())


# ------------------------------------------------------------------------- FreezeAllButHook and the stage-2 run

def test_freeze_all_but_hook_trains_fc_cls_only():
    head = build_head(head_cfg(), num_classes=C)
    model = torch.nn.Module()
    model.roi_head = torch.nn.Module()
    model.roi_head.bbox_head = head
    logs = []
    runner = SimpleNamespace(model=model, logger=SimpleNamespace(info=logs.append))
    HOOKS.build(dict(type='FreezeAllButHook')).before_run(runner)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_cls.bias'}
    assert f'{8 * WIDTH + WIDTH:,} of' in logs[0]
    with pytest.raises(ValueError, match=r"under \['roi_head.mask_head'\]"):
        HOOKS.build(dict(type='FreezeAllButHook', trainable=('roi_head.mask_head',))).before_run(runner)
    with pytest.raises(ValueError, match='non-empty sequence'):
        HOOKS.build(dict(type='FreezeAllButHook', trainable='roi_head.bbox_head.fc_cls'))


def train(config: str, work_dir: Path, cwd: Path, *options: str) -> None:
    run(tool('train.py', config, '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
             'default_hooks.logger.interval=1', *options), cwd=cwd)


@pytest.mark.slow
def test_lt_shapes_stage2_trains_fc_cls_only_on_cpu(det_workspace: Path, tmp_path: Path):
    """The LT-Shapes demo (stage 1) trains two iterations; the BAGS stage 2 loads it, trains two iterations and
    changes fc_cls alone (C + 6 columns, re-initialised: the stage-1 classifier has C + 1); its losses are finite."""
    stage1, stage2 = tmp_path / 'stage1', tmp_path / 'stage2'
    train(str(REPO / 'configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'), stage1, det_workspace)
    train(str(REPO / 'configs/bags/mask-rcnn_r18-tiny_fpn_bags_lt-shapes.py'), stage2, det_workspace,
          f'load_from={stage1 / "epoch_1.pth"}')
    logs = [json.loads(line) for line in next(stage2.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert len(logs) == 2
    for entry in logs:
        assert {'loss_cls', 'acc_objectness', 'acc_classes', 'loss_bbox', 'loss_mask'} <= set(entry)
        assert all(np.isfinite(entry[k]) for k in ('loss', 'loss_cls', 'loss_bbox', 'loss_mask'))
    before = torch.load(stage1 / 'epoch_1.pth', map_location='cpu', weights_only=False)['state_dict']
    after = torch.load(stage2 / 'epoch_1.pth', map_location='cpu', weights_only=False)['state_dict']
    assert set(after) - set(before) == {'roi_head.bbox_head.loss_cls.num_calls'}
    changed = {k for k in before if before[k].shape != after[k].shape or not torch.equal(before[k], after[k])}
    # running BatchNorm statistics stay too (norm_eval); the fc_cls re-init gives C + 6 = 36 rows
    assert changed == {'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_cls.bias'}
    assert after['roi_head.bbox_head.fc_cls.weight'].shape[0] == 36
    assert after['roi_head.bbox_head.loss_cls.num_calls'].item() == 2
