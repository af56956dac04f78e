"""Time per training iteration of CC-SAM against plain SGD on the same config, in one process.

    python tools/benchmarks/ccsam_step_time.py [--iters 30] [--repeats 5] [--threads 1] [--work-dir DIR]

For each CC-SAM config below (Digits-LT and CIFAR-100-LT, stages 1 and 2) the same model, data, optimiser and
batches are timed twice:
with ``CCSAMClsHead`` as configured, and with the head replaced by a plain ``LinearClsHead`` (same ``fc``, same loss):
the plain-SGD step of that config. Stage 2 freezes the backbone and neck as ``DecoupledStageHook`` does. Only
``model.train_step`` (data preprocessor, forward, loss, backward, SGD step) is timed, on batches loaded beforehand;
the two variants alternate ``--repeats`` times and the median of the per-iteration times is reported, with the ratio
CC-SAM / plain. One intra-op thread by default (``--threads``): on a shared CPU more threads mostly add noise.
Digits-LT is generated under ``--work-dir`` (default ``work_dirs/benchmarks/digits_lt``) if absent.
"""
import argparse
import copy
import os
import os.path as osp
import statistics
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from ltmm.demo.digits_lt import make_digits_lt

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# (config, stage, synthetic): synthetic batches are random images with labels drawn as the config's sampler would
# (instance-balanced from class_stats in stage 1, uniform over the classes in stage 2): no CIFAR data needed
CONFIGS = [
    ('configs/ccsam/stage1-ccsam_lenet_1xb32_digits-lt_30e.py', 1, False),
    ('configs/ccsam/ccsam_lenet_1xb32_digits-lt_10e.py', 2, False),
    ('configs/ccsam/stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e.py', 1, True),
    ('configs/ccsam/ccsam_resnet32_1xb64_cifar100-lt-if100_30e.py', 2, True),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--iters', type=int, default=30, help='timed iterations per repeat')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/digits_lt')
    return parser.parse_args()


def build(cfg: Config, plain: bool, frozen: bool):
    from mmpretrain.registry import MODELS

    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))  # as the Runner merges it
    if plain:
        head = model_cfg.head
        model_cfg.head = dict(type='LinearClsHead', num_classes=head.num_classes, in_channels=head.in_channels,
                              loss=head.loss)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    if frozen:
        for name in ('backbone', 'neck'):
            getattr(model, name).requires_grad_(False)
    model.train()
    return model, build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))


def synthetic_batches(cfg: Config, stage: int, count: int = 4) -> List[dict]:
    from mmpretrain.structures import DataSample

    counts = np.asarray(cfg.class_stats['image_count'], dtype=np.float64)
    rng = np.random.default_rng(0)
    size = cfg.train_dataloader.batch_size
    channels = len(cfg.data_preprocessor['mean'])
    batches = []
    for _ in range(count):
        labels = rng.choice(len(counts), size, p=None if stage == 2 else counts / counts.sum())
        batches.append(dict(inputs=[torch.randint(0, 256, (channels, 32, 32), dtype=torch.uint8) for _ in labels],
                            data_samples=[DataSample().set_gt_label(int(y)) for y in labels]))
    return batches


def time_steps(model, wrapper, batches: List[dict], iters: int) -> float:
    start = time.perf_counter()
    for i in range(iters):
        model.train_step(copy.copy(batches[i % len(batches)]), wrapper)
    return (time.perf_counter() - start) / iters


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    out = osp.abspath(args.work_dir)
    os.makedirs(out, exist_ok=True)
    os.chdir(out)  # the configs' relative data_root (data/digits_lt/) resolves here
    if not osp.isfile(osp.join('data', 'digits_lt', 'meta', 'train.txt')):
        make_digits_lt(osp.join('data', 'digits_lt'))
    import ltmm.cls  # noqa: F401  (registers CCSAMClsHead)
    init_default_scope('mmpretrain')
    print(f'torch threads: {torch.get_num_threads()}, {args.iters} iterations x {args.repeats} repeats, median')
    print('| config | CC-SAM ms / iter | plain SGD ms / iter | ratio |')
    print('|---|---|---|---|')
    for path, stage, synthetic in CONFIGS:
        cfg = Config.fromfile(osp.join(REPO, path))
        if synthetic:
            batches = synthetic_batches(cfg, stage)
        else:
            cfg.train_dataloader.num_workers = 0
            cfg.train_dataloader.persistent_workers = False
            loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
            batches = [b for _, b in zip(range(8), loader)]
        variants = {name: build(cfg, name == 'plain', stage == 2) for name in ('ccsam', 'plain')}
        for model, wrapper in variants.values():  # warm-up
            time_steps(model, wrapper, batches, 3)
        times: Dict[str, List[float]] = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, (model, wrapper) in variants.items():
                times[name].append(time_steps(model, wrapper, batches, args.iters))
        ccsam, plain = statistics.median(times['ccsam']), statistics.median(times['plain'])
        data = ', synthetic batches' if synthetic else ''
        print(f'| {osp.basename(path)} (stage {stage}{data}) | {1e3 * ccsam:.2f} | {1e3 * plain:.2f} | '
              f'{ccsam / plain:.2f} |')


if __name__ == '__main__':
    main()
