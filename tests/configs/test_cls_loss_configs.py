"""Every Digits-LT config of the loss methods (balanced softmax, logit adjustment, LDAM-DRW, class-balanced, SEQL,
Bal-BCE) trains (two iterations) on CPU and is evaluated with ShotAccuracy, in-process (mmengine's Runner)."""
import math
from glob import glob

import pytest
import torch

from ..helpers import REPO

FOLDERS = ('balanced_softmax', 'logit_adjustment', 'ldam_drw', 'class_balanced', 'seql', 'bal_bce')
CONFIGS = sorted(p for folder in FOLDERS for p in glob(str(REPO / 'configs' / folder / '*digits-lt*.py')))


def test_every_folder_has_the_four_recipes():
    for folder in FOLDERS:
        names = [p.split('/')[-1] for p in glob(str(REPO / 'configs' / folder / '*.py'))]
        for recipe in ('resnet50_8xb64_imagenet-lt_90e', 'resnext50-32x4d_8xb64_imagenet-lt_90e',
                       'resnet32_1xb128_cifar100-lt-if100_200e', 'lenet_1xb32_digits-lt_30e'):
            assert any(recipe in n for n in names), (folder, recipe)
        assert (REPO / 'configs' / folder / 'README.md').is_file()


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.split('/')[-1][:-3])
def test_digits_lt_config_trains_one_epoch(config, cls_workspace, tmp_path, monkeypatch):
    from mmengine.config import Config
    from mmengine.runner import Runner

    monkeypatch.chdir(cls_workspace)  # the configs' data_root and class_stats are relative: data/digits_lt/
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_begin = 2  # validated once, below
    cfg.train_dataloader.dataset.indices = 64  # two iterations
    if cfg.model.head.loss.get('drw'):  # LDAM-DRW: the re-weighted phase from the start
        cfg.model.head.loss.drw.start_epoch = 0
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.val_dataloader.num_workers = 0
    cfg.val_dataloader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    metrics = runner.val_loop.run()
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
