"""Time and memory per training step of ltmm's contrastive methods at ImageNet-LT scale, against plain CE.

    python tools/benchmarks/contrastive_cost.py                       # CPU, ResNet-18 at 64 px, batch 32
    python tools/benchmarks/contrastive_cost.py --device cuda --size 224 --batch 64 --steps 20
    python tools/benchmarks/contrastive_cost.py --methods PaCo KCL --steps 2 --warmup 1

Each method's model is built from its ImageNet-LT config (1000 classes; the official queue size, feature dimension,
temperature, number of views and optimiser) with one change: the ResNet-50 backbone is replaced by mmpretrain's
ResNet-18 (``--depth``), and every layer reading the backbone's 2048-d pooled feature (the head's ``in_channels``,
a projection neck's first width, BCL's prototype MLP) reads its 512-d feature; hidden widths of the projection MLPs
stay as configured. Synthetic batches: ``--batch`` images per view (the per-device batch), ``--size`` pixels, labels
uniform over the 1000 classes (SBCL: a fixed clustering of 4 subclasses per class over ImageNet-LT's 115,846 images
installed as its cluster hook would); the losses that take ``class_stats`` get ImageNet-LT's range of class sizes
(1,280 down to 5 images, exponential decay over the classes) instead of the annotation file; TSC's one-off
generation of its class targets on the first step (10,000 Adam steps over 1000 x 1000 pairs, once per run, minutes
on one CPU thread) runs 100 steps: the per-step cost after it does not depend on them. ``model.train_step``
(data preprocessor, forward, loss, backward, optimiser step) is timed: the median of ``--steps`` steps after
``--warmup`` steps.

Every method runs in a fresh subprocess, so the peak memory is its own: on CPU the rise of the process's peak resident
set (``VmHWM``, reset through ``/proc/self/clear_refs`` before the model is built) over the resident set before it,
on CUDA ``torch.cuda.max_memory_allocated`` (model, optimiser state, activations). In the same subprocess, after the
method, plain CE with the same backbone and batch (one view, ``LinearClsHead``, SGD) is timed on the same kind of
batch: the ratio is method / CE measured in one process. The CE row is its own subprocess too. ``state MiB`` is the
size of the model's buffers in the state dict other than BatchNorm statistics (queue features, labels, ids and
pointer, class centroids and targets, subclass ids; also the data preprocessor's 24-byte mean and std);
``key encoder MiB`` the parameters that take no gradient (the momentum encoder). One intra-op thread by default
(``--threads``): on a shared CPU more threads mostly add noise.
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the ImageNet-LT configs of the contrastive methods (TSC and SBCL: their phase 2, from which the queue loss is timed)
METHODS = {
    'PaCo': 'configs/paco/paco_resnet50_4xb32_imagenet-lt_400e.py',
    'GPaCo': 'configs/gpaco/gpaco_resnet50_4xb32_imagenet-lt_400e.py',
    'BCL': 'configs/bcl/bcl_resnet50_4xb64_imagenet-lt_90e.py',
    'KCL': 'configs/kcl/kcl_resnet50_4xb64_imagenet-lt_200e.py',
    'TSC': 'configs/tsc/tsc_resnet50_4xb64_imagenet-lt_200e.py',
    'SBCL': 'configs/sbcl/sbcl_resnet50_8xb32_imagenet-lt_200e.py',
}
BASELINE = 'CE'
IMAGENET_LT_TRAIN = 115846
SUBCLASSES = 4
TSC_TARGET_STEPS = 100
BACKBONE_WIDTH = {18: 512, 34: 512, 50: 2048}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=list(METHODS))
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--depth', type=int, default=18, choices=sorted(BACKBONE_WIDTH), help='ResNet depth')
    parser.add_argument('--size', type=int, default=64, help='image side in pixels')
    parser.add_argument('--batch', type=int, default=32, help='images per view per device')
    parser.add_argument('--steps', type=int, default=5, help='timed steps (median)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--queue-size', type=int, default=None, help='override the configs\' queue size')
    parser.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)  # internal: one method in this process
    return parser.parse_args(argv)


def num_views(pipeline: List[dict]) -> int:
    """Views per image of a training pipeline: the sum of its ``MultiView`` counts (1 without one)."""
    for t in pipeline:
        if t['type'] == 'MultiView':
            n = t['num_views']
            return sum(n) if isinstance(n, (list, tuple)) else int(n)
    return 1


def small_backbone_cfg(model: dict, depth: int) -> dict:
    """``model`` with a ResNet-``depth`` backbone and the 2048-d readers of the pooled feature resized (docstring)."""
    width = BACKBONE_WIDTH[depth]
    model = copy.deepcopy(model)
    model['backbone'] = dict(type='ResNet', depth=depth, num_stages=4, out_indices=(3, ), style='pytorch')

    def resize(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'class_stats':
                    node[key] = synthetic_class_stats()
                elif key == 'in_channels' and value == 2048:
                    node[key] = width
                elif key == 'channels' and isinstance(value, (list, tuple)) and value[0] == 2048:
                    node[key] = (width, *value[1:])
                else:
                    resize(value)

    for key in ('neck', 'head', 'contrast_loss'):
        if model.get(key) is not None:
            resize(model[key])
    return model


def synthetic_class_stats(num_classes: int = 1000) -> dict:
    """ImageNet-LT's range of class sizes (1,280 down to 5 images), exponentially decaying over the classes."""
    counts = [int(1280 * (5 / 1280) ** (c / (num_classes - 1))) for c in range(num_classes)]
    return dict(num_images=sum(counts), image_count=counts, instance_count=counts)


def state_mib(model: torch.nn.Module) -> Dict[str, float]:
    """MiB of the non-BatchNorm buffers and of the parameters that take no gradient (module docstring)."""
    bn_stats = ('running_mean', 'running_var', 'num_batches_tracked')
    buffers = sum(b.numel() * b.element_size() for name, b in model.named_buffers() if not name.endswith(bn_stats))
    frozen = sum(p.numel() * p.element_size() for p in model.parameters() if not p.requires_grad)
    return dict(state_mib=buffers / 2**20, key_encoder_mib=frozen / 2**20)


def make_batch(views: int, batch: int, size: int, num_classes: int, seed: int, sample_idx: bool) -> dict:
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, IMAGENET_LT_TRAIN, (batch, ), generator=gen)
    labels = idx % num_classes  # the same map as the synthetic SBCL clustering below
    samples = []
    for i, y in zip(idx.tolist(), labels.tolist()):
        sample = DataSample().set_gt_label(y)
        if sample_idx:
            sample.set_field(i, 'sample_idx', field_type='metainfo')
        samples.append(sample)
    images = [torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, generator=gen) for _ in range(views)]
    return dict(inputs=images if views > 1 else images[0], data_samples=samples)


def peak_reset() -> int:
    """Resets the CPU peak resident set where Linux allows it; returns the current resident set in bytes."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass
    return _proc_status('VmRSS')


def _proc_status(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'contrastive_cost: no {field} in /proc/self/status')


def build(name: str, args: argparse.Namespace, device: torch.device):
    """(model, optimiser wrapper, views per image, per-device batch of the official run) of ``name``."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(osp.join(REPO, METHODS['PaCo' if name == BASELINE else name]))
    if name == BASELINE:
        model_cfg = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=args.depth),
                         neck=dict(type='GlobalAveragePooling'),
                         head=dict(type='LinearClsHead', num_classes=1000, in_channels=BACKBONE_WIDTH[args.depth]),
                         data_preprocessor=dict(type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                                std=[58.395, 57.12, 57.375], to_rgb=True))
        optim = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
        views = 1
    else:
        model_cfg = small_backbone_cfg(cfg.model.to_dict(), args.depth)
        model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))  # as the Runner merges it
        if name == 'TSC':  # the one-off target generation (module docstring)
            model_cfg['contrast_loss']['target_steps'] = TSC_TARGET_STEPS
        if args.queue_size is not None and 'queue_size' in model_cfg:
            model_cfg['queue_size'] = args.queue_size
        optim = cfg.optim_wrapper.to_dict()
        views = num_views(cfg.train_dataloader.dataset.pipeline)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).to(device)
    model.train()
    if name == 'SBCL':  # what SBCLClusterHook installs before the first step: here a fixed synthetic clustering
        idx = torch.arange(IMAGENET_LT_TRAIN)
        model.contrast_loss.set_clusters(idx % (1000 * SUBCLASSES), torch.full((1000, ), 0.07))
    return model, build_optim_wrapper(model, optim), views, cfg.train_dataloader.batch_size


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_steps(model, wrapper, batches: List[dict], steps: int, warmup: int, device: torch.device) -> float:
    times = []
    for i in range(warmup + steps):
        sync(device)
        start = time.perf_counter()
        model.train_step(copy.copy(batches[i % len(batches)]), wrapper)
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(args: argparse.Namespace) -> dict:
    """Measures one method (and, after it, the CE baseline) in this process; returns the row as a dict."""
    from mmengine.registry import init_default_scope

    import ltmm.cls  # noqa: F401  (registers the contrastive classifiers and losses)

    init_default_scope('mmpretrain')
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = args.worker
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        before = peak_reset()
    model, wrapper, views, official_batch = build(name, args, device)
    batches = [make_batch(views, args.batch, args.size, 1000, seed, name == 'SBCL') for seed in range(2)]
    seconds = time_steps(model, wrapper, batches, args.steps, args.warmup, device)
    peak = (torch.cuda.max_memory_allocated(device) if device.type == 'cuda' else _proc_status('VmHWM')) - before
    row = dict(method=name, views=views, official_batch=official_batch, ms=1e3 * seconds, peak_mib=peak / 2**20,
               **state_mib(model))
    queue = getattr(model, 'queue', None)
    if queue is not None:
        row['queue_size'], row['feat_dim'] = tuple(queue.feats.shape)
    if name != BASELINE:
        del model, wrapper
        ce_model, ce_wrapper, _, _ = build(BASELINE, args, device)
        ce_batches = [make_batch(1, args.batch, args.size, 1000, seed, False) for seed in range(2)]
        row['ce_ms'] = 1e3 * time_steps(ce_model, ce_wrapper, ce_batches, args.steps, args.warmup, device)
    return row


def run_worker(name: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '--worker', name, '--device', args.device, '--depth', str(args.depth),
           '--size', str(args.size), '--batch', str(args.batch), '--steps', str(args.steps), '--warmup',
           str(args.warmup), '--threads', str(args.threads)]
    if args.queue_size is not None:
        cmd += ['--queue-size', str(args.queue_size)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f'contrastive_cost: the {name} worker failed:\n{out.stderr[-4000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args)))
        return []
    from tqdm import tqdm

    rows = []
    for name in tqdm([BASELINE, *args.methods], desc='methods', file=sys.stderr):
        rows.append(run_worker(name, args))
    memory = 'torch.cuda.max_memory_allocated' if args.device.startswith('cuda') else 'VmHWM rise'
    print(f'device: {args.device}, {args.threads} CPU thread(s); backbone ResNet-{args.depth} at {args.size} px '
          f'(in place of ResNet-50 at 224), {args.batch} images per view per device, 1000 classes; median of '
          f'{args.steps} train steps after {args.warmup}; peak memory: {memory}; ratio: method / CE timed in the same '
          'subprocess')
    print('| method | views | queue x dim | official batch / device | ms / step | ratio vs CE | peak MiB | '
          'state MiB | key encoder MiB |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        queue = f"{r['queue_size']} x {r['feat_dim']}" if r.get('feat_dim') else '-'
        ratio = f"{r['ms'] / r['ce_ms']:.2f}" if 'ce_ms' in r else '1.00 (baseline)'
        official = '-' if r['method'] == BASELINE else r['official_batch']
        print(f"| {r['method']} | {r['views']} | {queue} | {official} | {r['ms']:.1f} | {ratio} | "
              f"{r['peak_mib']:.0f} | {r['state_mib']:.2f} | {r['key_encoder_mib']:.1f} |")
    return rows


if __name__ == '__main__':
    main()
