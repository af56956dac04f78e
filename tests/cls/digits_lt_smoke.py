"""Train a Digits-LT config for two iterations on CPU in-process (mmengine's Runner) and validate it once: the
smoke of a method's Digits-LT config, as tests/configs/test_cls_loss_configs.py runs the loss folders'."""
from pathlib import Path
from typing import Dict, Optional, Tuple


def train_two_iterations(config: str, work_dir: Path,
                         cfg_options: Optional[dict] = None) -> Tuple[float, Dict[str, float], object]:
    """(last training loss, validation metrics, runner) of ``config`` trained on 64 images (two iterations of 32).

    Run it from the ``cls_workspace`` folder (the configs' data_root and class_stats are relative:
    data/digits_lt/). ``cfg_options`` are merged into the config first.
    """
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_begin = 2  # validated once, below
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:  # a dataset wrapper (e.g. PairedDataset): the subset is the wrapped dataset's
        dataset = dataset.dataset
    dataset.indices = 64  # two iterations
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    return loss, runner.val_loop.run(), runner


def checkpoint_and_resume(runner, tmp_path: Path) -> Tuple[Path, object]:
    """Save ``runner`` (after :func:`train_two_iterations`) as ``tmp_path/epoch_1.pth`` and resume from it in a new
    runner that trains one more epoch: ``save_checkpoint`` after ``train()`` records epoch 2 as the next one, so the
    resumed run trains the 0-indexed epoch 2 (max_epochs 3). Returns (the checkpoint, the trained resumed runner)."""
    from mmengine.runner import Runner

    ckpt = tmp_path / 'epoch_1.pth'
    runner.save_checkpoint(str(tmp_path), ckpt.name)
    cfg = runner.cfg
    cfg.work_dir = str(tmp_path / 'resumed')
    cfg.train_cfg.max_epochs = 3
    cfg.resume, cfg.load_from = True, str(ckpt)
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    return ckpt, resumed
