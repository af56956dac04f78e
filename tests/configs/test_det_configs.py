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
}
NAME = re.compile(r'mask-rcnn_r(?P<depth>50|101)_fpn_(?P<tag>[a-z0-9-]+)_(?P<sampler>random|sample1e-3)-ms-'
                  r'(?P<sched>1x|2x)_lvis-(?P<version>v1|v0\.5)\.py')
LVIS_CONFIGS = sorted(p for folder in METHODS for p in (REPO / 'configs' / folder).glob('mask-rcnn_r*_lvis-*.py'))


def test_every_folder_has_the_full_grid():
    for folder in METHODS:
        names = {p.name for p in (REPO / 'configs' / folder).glob('mask-rcnn_r*_lvis-*.py')}
        combos = {NAME.fullmatch(n).group('depth', 'sampler', 'sched', 'version') for n in names}
        expected = 32 if folder == 'rog' else 16  # rog: sigmoid CE and Seesaw recipes
        assert len(names) == expected and len(combos) == 16, folder


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
    assert cfg.model.test_cfg.rcnn.score_thr == 0.0001 and cfg.model.test_cfg.rcnn.max_per_img == 300

    dataset = cfg.train_dataloader.dataset
    if parts['sampler'] == 'sample1e-3':
        assert dataset.type == 'ClassBalancedDataset' and dataset.oversample_thr == 1e-3
        dataset = dataset.dataset
    else:
        assert dataset.type != 'ClassBalancedDataset'
    assert dataset.type == ('LVISV1Dataset' if parts['version'] == 'v1' else 'LVISV05Dataset')
    assert dataset.ann_file.endswith(f'lvis_{parts["version"]}_train.json')
    assert cfg.val_evaluator.type == 'FastLVISMetric'
    assert cfg.val_evaluator.ann_file.endswith(f'lvis_{parts["version"]}_val.json')

    epochs = 12 if parts['sched'] == '1x' else 24
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_cfg.val_interval == epochs
    step = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]
    assert step.end == epochs and step.milestones == ([8, 11] if epochs == 12 else [16, 22])


@pytest.mark.slow
@pytest.mark.parametrize('folder', sorted(METHODS))
def test_bbox_head_builds_with_the_right_width(folder):
    """The R50 1x v1 config of each method builds its bbox head, and the classifier width follows the loss."""
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    import ltmm.det  # noqa: F401

    tag = {'lvis': 'ce', 'fed_loss': 'fed-loss', 'seesaw': 'seesaw-loss'}.get(folder, folder)
    cfg = Config.fromfile(str(REPO / f'configs/{folder}/mask-rcnn_r50_fpn_{tag}_random-ms-1x_lvis-v1.py'))
    head_cfg = cfg.model.roi_head.bbox_head
    if 'class_stats' in head_cfg.loss_cls:  # the LVIS file is not here: same shape, made-up counts
        counts = [1 + i % 300 for i in range(1203)]
        head_cfg.loss_cls.class_stats = dict(num_images=99388, image_count=counts, instance_count=counts)
    with DefaultScope.overwrite_default_scope('mmdet'):  # no scope left behind for the tests that follow
        head = MODELS.build(head_cfg)
    assert head.fc_cls.out_features == 1203 + METHODS[folder][2]


DEMO_CONFIGS = sorted(p for folder in METHODS for p in (REPO / 'configs' / folder).glob('*_lt-shapes.py'))


def test_every_loss_has_a_demo_config():
    assert {p.parent.name for p in DEMO_CONFIGS} == set(METHODS) - {'lvis'}


@pytest.mark.slow
@pytest.mark.parametrize('path', DEMO_CONFIGS, ids=lambda p: p.parent.name)
def test_demo_config_trains_on_cpu(path: Path, det_workspace: Path, tmp_path: Path):
    """Two iterations of the LT-Shapes demo detector with each loss through tools/train.py; the losses it logs are
    finite and the loss's own terms are there."""
    work_dir = tmp_path / 'work'
    run(tool('train.py', str(path), '--work-dir', str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
             'default_hooks.logger.interval=1'), cwd=det_workspace)
    logs = [json.loads(line) for line in next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert len(logs) == 2
    expected = {'loss', 'loss_bbox', 'loss_mask'}
    if path.parent.name != 'seesaw':
        expected |= {'acc_objectness', 'acc_classes', 'loss_cls'}
    if path.parent.name == 'rog':
        expected.add('loss_rank')
    for entry in logs:
        assert expected <= set(entry), sorted(entry)
        assert all(abs(entry[k]) < 1e4 for k in expected)
    assert (work_dir / 'epoch_1.pth').is_file()
