"""What ``tools/`` shares: the common command-line options, loading a config with them applied, building the Runner
(on CPU-only machines the distributed group runs on gloo), and building a trained classifier from a config and a
checkpoint for the analysis tools."""
import argparse
import copy
import os
import os.path as osp
import warnings
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner, load_checkpoint

from ..core.compat import cpu_ddp_wrapper_cfg, init_distributed


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options every tool takes, named as in mmdet / mmpretrain."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (needs CUDA)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value (e.g. train_cfg.max_epochs=2)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (dist_*.sh use pytorch, slurm_*.sh use slurm)')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK instead
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the common options."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} does not exist')
    with warnings.catch_warnings():
        # mmengine 0.10.7 resolves `mmdet::` / `mmpretrain::` bases with pkg_resources, which warns on every import
        warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
        cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp and not torch.cuda.is_available():
        raise RuntimeError('--amp needs a CUDA device (mmengine\'s AmpOptimWrapper and fp16 test loop)')
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Start the process group where mmengine cannot (no CUDA) and build the Runner."""
    init_distributed(cfg.launcher)
    if cfg.launcher != 'none':
        cfg.model_wrapper_cfg = cpu_ddp_wrapper_cfg(cfg.get('model_wrapper_cfg'))
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def end_distributed() -> None:
    """End a distributed run's process group once every rank is done (a barrier, then ``destroy_process_group``);
    nothing outside one. Without it a rank that finishes while another still works (saving the best checkpoint)
    exits with gloo's threads alive and can abort ("terminate called without an active exception")."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def model_config(cfg: Config, head: Optional[dict] = None) -> dict:
    """``cfg.model`` with the top-level data preprocessor (as the Runner does) and ``head`` merged into its head."""
    model = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    if head:
        model['head'] = dict(model['head'], **head)
    return model


def build_classifier(cfg: Config, checkpoint: str, device: str = 'cpu', head: Optional[dict] = None) -> torch.nn.Module:
    """The model of ``cfg`` (with ``head`` overrides), its weights loaded from ``checkpoint``, in ``eval()`` mode."""
    from mmpretrain.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(model_config(cfg, head))
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.to(device).eval()
