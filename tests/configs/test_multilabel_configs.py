"""The DB-loss configs (VOC-LT / COCO-MLT ablation rows, the official 1 GPU x 32 recipe and its iteration count) and
a CPU training smoke of the LT-Shapes multi-label demo through tools/train.py."""
import json
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch.utils.data import DataLoader

import ltmm.multilabel  # noqa: F401  (registration)
from ltmm.cls.samplers import base as sampler_base

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
# The official recipe (wutong16/DistributionBalancedLoss, configs/{voc,coco}/LT_resnet50_pfc_DB.py) trains on one GPU
# with 32 images and drop_last (mllt/datasets/loader/build_loader.py); the published splits' largest class holds 775
# (VOC-LT) / 1,128 (COCO-MLT) training images. Epoch: 775 x 20 / 4 = 3,875 samples -> 121 batches, x 8 = 968
# iterations; COCO-MLT: 1,128 x 80 / 4 = 22,560 -> 705, x 8 = 5,640.
OFFICIAL = {'voc-lt': (775, 20, 968), 'coco-mlt': (1128, 80, 5640)}  # max class count, classes, iterations


class CountsDataset:
    """What the class-aware sampler reads (len, get_cat_ids, metainfo): one label per image, the given class counts."""

    def __init__(self, counts) -> None:
        self.labels = [c for c, n in enumerate(counts) for _ in range(n)]
        self.metainfo = {'classes': [f'c{i}' for i in range(len(counts))]}

    def __len__(self) -> int:
        return len(self.labels)

    def get_cat_ids(self, idx: int):
        return [self.labels[idx]]


def training_iterations(cfg: Config, counts, world_size: int, batch_size: int, monkeypatch) -> int:
    """Iterations per rank of ``cfg``'s whole schedule: its sampler and drop_last on a dataset with ``counts``."""
    from mmpretrain.registry import DATA_SAMPLERS
    monkeypatch.setattr(sampler_base, 'get_dist_info', lambda: (0, world_size))
    dataset = CountsDataset(counts)
    sampler = DATA_SAMPLERS.build(cfg.train_dataloader.sampler, default_args=dict(dataset=dataset, seed=0))
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=cfg.train_dataloader.drop_last)
    return len(loader) * cfg.train_cfg.max_epochs


@pytest.mark.parametrize('dataset', sorted(DATASETS))
@pytest.mark.parametrize('row', sorted(ROWS))
def test_ablation_configs(row, dataset):
    cfg = Config.fromfile(str(REPO / f'configs/db_loss/{row}_resnet50-pfc_1xb32_{dataset}_8e.py'))
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
    # the official mmdet-1 ResNet: stem + stage 1 frozen, every backbone BatchNorm in eval mode (norm_eval=True)
    assert (cfg.model.backbone.frozen_stages, cfg.model.backbone.norm_eval) == (1, True)
    assert cfg.train_cfg.max_epochs == 8 and cfg.val_evaluator.type == 'MultiLabelShotMAP'
    assert loss.class_stats == cfg.val_evaluator.class_stats
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_dataloader.drop_last


@pytest.mark.parametrize('dataset', sorted(OFFICIAL))
def test_db_focal_is_the_official_one_gpu_recipe_with_its_iteration_count(dataset, monkeypatch):
    cfg = Config.fromfile(str(REPO / f'configs/db_loss/db-focal_resnet50-pfc_1xb32_{dataset}_8e.py'))
    max_count, num_classes, official_iterations = OFFICIAL[dataset]
    # lr 0.02 belongs to one GPU x 32 images: --auto-scale-lr scales it by (GPUs x batch) / 32
    assert cfg.train_dataloader.batch_size == cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=35, norm_type=2)
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.by_epoch, warmup.end) == ('LinearLR', 1.0 / 3, False, 500)
    assert (steps.type, steps.by_epoch, steps.milestones, steps.gamma) == ('MultiStepLR', True, [5, 7], 0.1)
    assert cfg.train_cfg.max_epochs == 8
    counts = np.linspace(max_count, 4, num_classes).round().astype(int)  # only the largest count and C matter
    assert training_iterations(cfg, counts, 1, 32, monkeypatch) == official_iterations
    # the README's multi-GPU recipe: G GPUs x 32/G images keep the official batch, lr and iteration count
    for gpus in (2, 4, 8):
        assert training_iterations(cfg, counts, gpus, 32 // gpus, monkeypatch) == official_iterations


def test_resnet50_pfc_model_builds_and_trains_one_step():
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg = Config.fromfile(str(REPO / 'configs/db_loss/db-focal_resnet50-pfc_1xb32_voc-lt_8e.py'))
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
