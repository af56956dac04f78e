"""The DB-loss configs (VOC-LT / COCO-MLT ablation rows) and a CPU training smoke of the LT-Shapes multi-label demo
through tools/train.py."""
import json
import re

import pytest
import torch
from mmengine.config import Config

import ltmm  # noqa: F401  (registration)

from ..helpers import REPO, run, tool

DEMO_CFG = str(REPO / 'configs/demo/resnet18-tiny_lt-shapes-multilabel_db-focal.py')
ROWS = {  # row: (reweight, focal, ntr on, class-aware sampler)
    'bce': (None, False, False, False),
    'focal': (None, True, False, False),
    'cb-focal': ('CB', True, False, False),
    'r-bce-focal': ('rebalance', True, False, True),
    'db': ('rebalance', False, True, True),
    'db-focal': ('rebalance', True, True, True),
}
DATASETS = {'voc-lt': (20, 0.3, 5.0, 'VOCLTDataset'), 'coco-mlt': (80, 0.2, 2.0, 'COCOMLTDataset')}


@pytest.mark.parametrize('dataset', sorted(DATASETS))
@pytest.mark.parametrize('row', sorted(ROWS))
def test_ablation_configs(row, dataset):
    cfg = Config.fromfile(str(REPO / f'configs/db_loss/{row}_resnet50-pfc_8xb32_{dataset}_8e.py'))
    num_classes, mu, lam, dataset_type = DATASETS[dataset]
    reweight, focal, ntr, class_aware = ROWS[row]
    loss = cfg.model.head.loss
    assert cfg.model.head.num_classes == num_classes and cfg.train_dataloader.dataset.type == dataset_type
    assert (loss.type, loss.reweight, loss.focal, loss.map_mu) == ('DistributionBalancedLoss', reweight, focal, mu)
    assert (loss.ntr_kappa, loss.ntr_lambda) == ((0.05, lam) if ntr else (0.0, 1.0))
    sampler = cfg.train_dataloader.sampler
    assert sampler == (dict(type='ClassAwareSampler', num_samples_cls=3, reduce=4) if class_aware
                       else dict(type='DefaultSampler', shuffle=True))
    assert cfg.model.neck.out_channels == 256 and cfg.model.neck.act_cfg == dict(type='Dropout', drop_prob=0.5)
    assert cfg.train_cfg.max_epochs == 8 and cfg.val_evaluator.type == 'MultiLabelShotMAP'
    assert loss.class_stats == cfg.val_evaluator.class_stats


def test_resnet50_pfc_model_builds_and_trains_one_step():
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg = Config.fromfile(str(REPO / 'configs/db_loss/db-focal_resnet50-pfc_8xb32_voc-lt_8e.py'))
    cfg.model.backbone.init_cfg = None  # no download in tests
    counts = list(range(5, 25))
    cfg.model.head.loss.class_stats = dict(num_images=200, image_count=counts, instance_count=counts)
    model = MODELS.build(cfg.model)
    inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    samples = [DataSample().set_gt_label([1, 7]), DataSample().set_gt_label([19])]
    losses = model(inputs, samples, mode='loss')
    losses['loss'].backward()
    assert torch.isfinite(losses['loss'])
    assert model.neck.fc.weight.grad is not None
    assert model.backbone.conv1.weight.grad is None, 'stem frozen (frozen_stages=1)'


@pytest.mark.slow
def test_demo_db_focal_run_prints_head_medium_tail_map(det_workspace):
    work = det_workspace / 'work_multilabel'
    out = run(tool('train.py', DEMO_CFG, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=1',
                   'train_cfg.val_interval=1', 'train_dataloader.batch_size=16'), det_workspace).stdout
    match = re.search(r'shot_map/mAP: ([\d.]+)\s+shot_map/head: (-?[\d.]+)\s+shot_map/medium: (-?[\d.]+)\s+'
                      r'shot_map/tail: ([\d.]+)', out)
    assert match, out[-3000:]
    assert 0 < float(match.group(1)) <= 100
    # the test fixture's LT-Shapes has 2-6 training images per class: every class is a tail class
    assert float(match.group(2)) == -1.0 and float(match.group(3)) == -1.0
    assert float(match.group(4)) == pytest.approx(float(match.group(1)), abs=1e-3)
    per_class = list(work.glob('*/per_class_ap.json'))
    record = json.loads(per_class[0].read_text())
    assert per_class and record['grouping'] == 'multilabel' and len(record['value']) == 30
    assert per_class[0].with_suffix('.png').is_file()
