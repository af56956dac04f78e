"""The LVIS detection configs (every method folder's grid) and a CPU training smoke per long-tail loss on LT-Shapes."""
import json
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from ..helpers import REPO, run, tool

METHODS = {  # folder -> (loss type, bbox head type, classifier width - num_classes)
    'lvis': ('CrossEntropyLoss', 'Shared2FCBBoxHead', 1),
    'eql': ('EqualizationLoss', 'Shared2FCBBoxHead', 0),
    'eqlv2': ('EqualizationLossV2', 'Shared2FCBBoxHead', 1),
    'fed_loss': ('FederatedLoss', 'Shared2FCBBoxHead', 1),
    'rog': ('SigmoidCELoss', 'ROGShared2FCBBoxHead', 1),
    'seesaw': ('SeesawLoss', 'Shared2FCBBoxHead', 2),
    'gol': ('GumbelLoss', 'Shared2FCBBoxHead', 0),
    'ecm': ('ECMLoss', 'Shared2FCBBoxHead', 1),
    'bags': ('BalancedGroupSoftmaxLoss', 'Shared2FCBBoxHead', 6),
    'aglu': ('GumbelLoss', 'Shared2FCBBoxHead', 0),  # APA / AGLU: GOL's classifier on the SE-ResNet-AGLU backbone
}
NAME = re.compile(r'mask-rcnn_r(?P<depth>50|101)_fpn_(?P<tag>[a-z0-9-]+)_(?P<sampler>random|sample1e-3)(?P<ms>-ms)?-'
                  r'(?P<sched>1x|2x)_lvis-(?P<version>v1|v0\.5)\.py')
LVIS_CONFIGS = sorted(p for folder in METHODS for p in (REPO / 'configs' / folder).glob('mask-rcnn_r*_lvis-*.py'))
VERSIONS = ('v1', 'v0.5')
# folders that hold the official recipes only, not the shared grid: (depth, sampler, schedule, version) combos
RECIPES = {
    'gol': {(d, 'sample1e-3', '2x', v) for d in ('50', '101') for v in VERSIONS},  # kostas1515/GOL configs/gol
    'ecm': {(d, 'sample1e-3', s, v) for d, s in (('50', '1x'), ('50', '2x'), ('101', '2x')) for v in VERSIONS},
    'bags': {(d, 'random', '1x', v) for d in ('50', '101') for v in VERSIONS},  # stage 2 of gs_mask_rcnn_r50_fpn_1x
    # kostas1515/AGLU configs/activations (LVIS v1), and their v0.5 form (an ltmm extension, GOL's v0.5 lambda)
    'aglu': {(d, 'sample1e-3', '2x', v) for d in ('50', '101') for v in VERSIONS},
}
# ECM's 2x decays at epochs 20 and 22 (janghyuncho/ECM-Loss r50_ecm_2x.py), not mmdet's 16 and 22
MILESTONES = {('ecm', '2x'): [20, 22]}


def test_every_folder_has_the_full_grid():
    for folder in METHODS:
        names = {p.name for p in (REPO / 'configs' / folder).glob('mask-rcnn_r*_lvis-*.py')}
        combos = {NAME.fullmatch(n).group('depth', 'sampler', 'sched', 'version') for n in names}
        if folder in RECIPES:
            assert combos == RECIPES[folder] and len(names) == len(combos), folder
            continue
        # rog: sigmoid CE and Seesaw recipes; seesaw: mmdet's 4 normed-mask recipes (2x, LVIS v1) and their v0.5 form
        expected = {'rog': 32, 'seesaw': 24}.get(folder, 16)
        assert len(names) == expected and len(combos) == 16, folder
    normed = {NAME.fullmatch(p.name).group('depth', 'sampler', 'sched', 'version')
              for p in (REPO / 'configs' / 'seesaw').glob('mask-rcnn_r*_fpn_seesaw-loss-normed-mask_*_lvis-*.py')}
    assert normed == {(d, s, '2x', v) for d in ('50', '101') for s in ('random', 'sample1e-3') for v in VERSIONS}


@pytest.mark.slow
@pytest.mark.parametrize('path', LVIS_CONFIGS, ids=lambda p: f'{p.parent.name}/{p.stem}')
def test_lvis_config_matches_its_name(path: Path):
    cfg = Config.fromfile(str(path))
    parts = NAME.fullmatch(path.name)
    num_classes = 1203 if parts['version'] == 'v1' else 1230
    loss_type, head_type, _ = METHODS[path.parent.name]
    bbox_head, mask_head = cfg.model.roi_head.bbox_head, cfg.model.roi_head.mask_head
    if parts['tag'] == 'rog-seesaw':
        loss_type = 'SeesawLoss'
        assert mask_head.predictor_cfg.type == 'NormedConv2d'
    if parts['tag'] == 'seesaw-loss-normed-mask':  # mmdet's normed-mask recipe: the plain config + this predictor
        assert mask_head.predictor_cfg == dict(type='NormedConv2d', tempearture=20)
        plain = Config.fromfile(str(path).replace('-normed-mask', ''))
        plain.model.roi_head.mask_head.predictor_cfg = mask_head.predictor_cfg
        assert plain.to_dict() == cfg.to_dict()
    assert bbox_head.type == head_type
    assert bbox_head.loss_cls.type == loss_type
    assert bbox_head.num_classes == mask_head.num_classes == num_classes
    assert bbox_head.loss_cls.get('num_classes', num_classes) == num_classes
    if 'class_stats' in bbox_head.loss_cls:
        assert f'lvis_{parts["version"]}_train_class_stats.json' in bbox_head.loss_cls.class_stats
    if loss_type == 'EqualizationLoss':
        assert bbox_head.loss_cls.lambda_ == (0.0011 if parts['version'] == 'v1' else 0.00177)
    if loss_type in ('EqualizationLoss', 'EqualizationLossV2'):  # official prior-probability bias init
        assert bbox_head.init_cfg[0] == dict(type='Normal', std=0.01, bias_prob=0.001, override=dict(name='fc_cls'))
    assert cfg.model.backbone.depth == int(parts['depth'])
    score_thr = 0.001 if path.parent.name == 'bags' else 0.0001  # BAGS official: 1e-3
    assert cfg.model.test_cfg.rcnn.score_thr == score_thr and cfg.model.test_cfg.rcnn.max_per_img == 300

    dataset = cfg.train_dataloader.dataset
    if parts['sampler'] == 'sample1e-3':
        assert dataset.type == 'ClassBalancedDataset' and dataset.oversample_thr == 1e-3
        dataset = dataset.dataset
    else:
        assert dataset.type != 'ClassBalancedDataset'
    assert dataset.type == ('LVISV1Dataset' if parts['version'] == 'v1' else 'LVISV05Dataset')
    assert dataset.ann_file.endswith(f'lvis_{parts["version"]}_train.json')
    resize = [t for t in dataset.pipeline if 'Resize' in t.type]
    if parts['ms']:
        assert [t.type for t in resize] == ['RandomChoiceResize'] and len(resize[0].scales) == 6
    else:
        assert [(t.type, t.scale) for t in resize] == [('Resize', (1333, 800))]
    assert cfg.val_evaluator.type == 'FastLVISMetric'
    assert cfg.val_evaluator.ann_file.endswith(f'lvis_{parts["version"]}_val.json')

    epochs = 12 if parts['sched'] == '1x' else 24
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_cfg.val_interval == epochs
    step = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]
    milestones = MILESTONES.get((path.parent.name, parts['sched']), [8, 11] if epochs == 12 else [16, 22])
    assert step.end == epochs and step.milestones == milestones
    check_official_recipe(path.parent.name, cfg, parts['version'])


def check_official_recipe(folder: str, cfg: Config, version: str) -> None:
    """The settings of GOL's, ECM's, BAGS's and APA's official recipes besides the loss; mmdet's test NMS 0.5
    elsewhere."""
    bbox_head, mask_head = cfg.model.roi_head.bbox_head, cfg.model.roi_head.mask_head
    warmup = cfg.param_scheduler[0]
    assert cfg.model.test_cfg.rcnn.nms.iou_threshold == (0.3 if folder in ('gol', 'aglu') else 0.5)
    assert cfg.model.test_cfg.rcnn.mask_thr_binary == (0.4 if folder == 'aglu' else 0.5)
    if folder == 'aglu':  # kostas1515/AGLU mask_rcnn_r{50,101}_fpn_8x2_sample1e-3_mstrain_lvis_2x.py
        backbone = cfg.model.backbone
        assert backbone.type == 'SEResNetAGLU' and backbone.get('use_aglu', True) and backbone.frozen_stages == 1
        assert backbone.init_cfg.type == 'Pretrained' and backbone.init_cfg.checkpoint.startswith(
            f'pretrained/imagenet_full_se_r{backbone.depth}_')  # the official ImageNet-1K SE-AGLU-APA weights
        assert bbox_head.loss_cls.lambda_ == (0.0011 if version == 'v1' else 0.00177)
        assert tuple(bbox_head.loss_cls.logit_clamp) == (-10.0, 10.0)
        assert bbox_head.init_cfg == dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))
        if backbone.depth == 50:  # learnable temperature and CARAFE; the R101 config: tau 20 and deconvolution
            assert mask_head.predictor_cfg == dict(type='LearnableTempNormedConv2d')
            assert mask_head.upsample_cfg.type == 'carafe' and mask_head.upsample_cfg.up_kernel == 5
        else:
            assert mask_head.predictor_cfg == dict(type='NormedConv2d', tempearture=20)
            assert mask_head.upsample_cfg == dict(type='deconv', scale_factor=2)
        assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
        assert (warmup.start_factor, warmup.end) == (0.001, 500) and 'clip_grad' not in cfg.optim_wrapper
    if folder == 'gol':  # kostas1515/GOL droploss_normed_mask_*_rfs_4x4_2x_gumbel.py: 4 GPUs x 4 images
        assert bbox_head.loss_cls.lambda_ == (0.0011 if version == 'v1' else 0.00177)
        assert bbox_head.init_cfg == dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))
        assert 'cls_predictor_cfg' not in bbox_head  # a plain Linear classifier
        assert mask_head.predictor_cfg == dict(type='NormedConv2d', tempearture=20)
        assert cfg.train_dataloader.batch_size == 4 and cfg.auto_scale_lr.base_batch_size == 16
        assert (warmup.start_factor, warmup.end) == (0.001, 500) and 'clip_grad' not in cfg.optim_wrapper
    if folder == 'ecm':  # janghyuncho/ECM-Loss r50_ecm_1x.py: 8 GPUs x 2 images
        assert bbox_head.loss_cls.fg_bg_ratio == 6.3313
        assert bbox_head.cls_predictor_cfg == dict(type='NormedLinear', tempearture=20)
        assert mask_head.predictor_cfg == dict(type='NormedConv2d', tempearture=20)
        assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
        assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == ('LinearLR', 1e-4, 10000, False)
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=5, norm_type=2)
    if folder == 'bags':  # FishYuLi/BalancedGroupSoftmax gs_mask_rcnn_r50_fpn_1x_lvis.py: 8 GPUs x 2 images
        loss = bbox_head.loss_cls
        assert (loss.bin_edges, loss.others_sample_ratio) == ((10, 100, 1000), 8.0)
        assert 'cls_predictor_cfg' not in bbox_head and 'predictor_cfg' not in mask_head
        assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
        assert cfg.optim_wrapper.optimizer.lr == 0.01 and cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
        assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == ('LinearLR', 1 / 3, 500, False)
        assert cfg.custom_hooks == [dict(type='FreezeAllButHook', trainable=('roi_head.bbox_head.fc_cls',))]
        assert cfg.model_wrapper_cfg.find_unused_parameters
        depth = cfg.model.backbone.depth
        assert cfg.load_from == f'work_dirs/mask-rcnn_r{depth}_fpn_ce_random-ms-1x_lvis-{version}/epoch_12.pth'
        assert (REPO / 'configs/lvis' / f'{Path(cfg.load_from).parent.name}.py').is_file()


@pytest.mark.slow
@pytest.mark.parametrize('folder', sorted(METHODS))
def test_bbox_head_builds_with_the_right_width(folder):
    """The R50 1x v1 config of each method builds its bbox head, and the classifier width follows the loss."""
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    import ltmm.det  # noqa: F401

    cfg = Config.fromfile(str(r50_v1_config(folder)))
    head_cfg = cfg.model.roi_head.bbox_head
    if 'class_stats' in head_cfg.loss_cls:
        head_cfg.loss_cls.class_stats = made_up_lvis_stats()
    with DefaultScope.overwrite_default_scope('mmdet'):  # no scope left behind for the tests that follow
        head = MODELS.build(head_cfg)
    assert head.fc_cls.out_features == 1203 + METHODS[folder][2]


def r50_v1_config(folder: str) -> Path:
    """The R50 LVIS v1 config of a folder: the 1x random one of the grid folders, the first official recipe else."""
    if folder in RECIPES:
        return sorted((REPO / 'configs' / folder).glob('mask-rcnn_r50_fpn_*_lvis-v1.py'))[0]
    tag = {'lvis': 'ce', 'fed_loss': 'fed-loss', 'seesaw': 'seesaw-loss'}.get(folder, folder)
    return REPO / f'configs/{folder}/mask-rcnn_r50_fpn_{tag}_random-ms-1x_lvis-v1.py'


def made_up_lvis_stats() -> dict:
    """The LVIS statistics file is not here: LVIS v1's shape (1,203 classes, 99,388 images), made-up counts."""
    counts = [1 + i % 300 for i in range(1203)]
    return dict(num_images=99388, image_count=counts, instance_count=[3 * c for c in counts])


@pytest.mark.slow
@pytest.mark.parametrize('folder', sorted(RECIPES))
def test_lvis_recipe_trains_and_predicts_a_step_on_cpu(folder):
    """The R50 LVIS v1 Mask R-CNN of GOL's, ECM's, BAGS's and APA's recipes (1,203 classes, their backbone,
    classifier, init, mask predictor and test NMS) builds, initialises (without the ImageNet weights), takes a training
    step and predicts on CPU."""
    import torch
    from mmdet.models.layers import NormedConv2d
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    from mmengine.registry import DefaultScope

    import ltmm.det  # noqa: F401

    cfg = Config.fromfile(str(r50_v1_config(folder)))
    cfg.model.backbone.init_cfg = None
    cfg.model.roi_head.bbox_head.loss_cls.class_stats = made_up_lvis_stats()
    if folder == 'aglu':  # mmcv's CARAFE has no CPU kernel: mmdet's deconvolution in its place
        cfg.model.roi_head.mask_head.upsample_cfg = dict(type='deconv', scale_factor=2)
    # fewer RoIs and detections (NMS over proposals x classes and mask pasting dominate): the same code path, faster
    cfg.model.train_cfg.rcnn.sampler.num = 64
    cfg.model.test_cfg.rpn.max_per_img = 10  # x 1,203 classes into NMS
    cfg.model.test_cfg.rcnn.max_per_img = 20
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        bbox_head = model.roi_head.bbox_head
        if folder == 'gol':
            assert (bbox_head.fc_cls.weight == 0.001).all() and (bbox_head.fc_cls.bias == -2).all()
        if folder == 'bags':  # BAGS re-trains the softmax baseline's classifier only: a plain mask predictor
            assert type(model.roi_head.mask_head.conv_logits).__name__ == 'Conv2d'
        else:
            assert isinstance(model.roi_head.mask_head.conv_logits, NormedConv2d)
        packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)], num_items=[3], num_classes=1203,
                                with_mask=True)
        data = model.data_preprocessor(packed, True)
        losses = model(**data, mode='loss')
        assert {'loss_cls', 'acc_classes', 'acc_objectness', 'loss_bbox', 'loss_mask'} <= set(losses)
        total = sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if k.startswith('loss'))
        assert torch.isfinite(total)
        total.backward()
        assert torch.isfinite(bbox_head.fc_cls.weight.grad).all() and bbox_head.fc_cls.weight.grad.abs().sum() > 0
        model.eval()
        with torch.no_grad():
            result = model(**model.data_preprocessor(packed, False), mode='predict')[0]
    scores = result.pred_instances.scores
    assert 0 < scores.numel() <= 20 and (scores >= 1e-4).all() and (scores <= 1).all()


# every method folder's LT-Shapes configs, and the sigmoid CE baseline of the LT-Shapes detection benchmark
DEMO_CONFIGS = sorted(p for folder in METHODS for p in (REPO / 'configs' / folder).glob('*_lt-shapes.py')) + [
    REPO / 'configs/demo/mask-rcnn_r18-tiny_fpn_sigmoid-ce_lt-shapes.py']


def test_every_loss_has_a_demo_config():
    assert {p.parent.name for p in DEMO_CONFIGS} == set(METHODS) - {'lvis'} | {'demo'}


@pytest.mark.slow
@pytest.mark.parametrize('path', DEMO_CONFIGS, ids=lambda p: p.stem)
def test_demo_config_trains_on_cpu(path: Path, det_workspace: Path, tmp_path: Path):
    """Two iterations of the LT-Shapes demo detector with each loss through tools/train.py; the losses it logs are
    finite and the loss's own terms are there."""
    work_dir = tmp_path / 'work'
    run(tool('train.py', str(path), '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
             'default_hooks.logger.interval=1', 'load_from=None'), cwd=det_workspace)  # BAGS: no stage 1 here
    logs = [json.loads(line) for line in next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert len(logs) == 2
    expected = {'loss', 'loss_bbox', 'loss_mask'}
    if path.parent.name != 'seesaw':
        expected |= {'acc_objectness', 'acc_classes', 'loss_cls'}
    if path.parent.name == 'rog':
        expected.add('loss_rank')
    if 'normed-mask' in path.name or path.parent.name in ('gol', 'ecm'):
        assert Config.fromfile(str(path)).model.roi_head.mask_head.predictor_cfg.type == 'NormedConv2d'
    for entry in logs:
        assert expected <= set(entry), sorted(entry)
        assert all(abs(entry[k]) < 1e4 for k in expected)
    assert (work_dir / 'epoch_1.pth').is_file()
