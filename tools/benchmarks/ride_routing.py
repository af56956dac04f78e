"""Cost of RIDE's routed inference: accuracy, experts used per image, measured time and FLOPs, all experts vs routed.

    python tools/benchmarks/ride_routing.py [--config CONFIG] [--checkpoint CKPT] [--work-dir DIR]
                                            [--batch-size 32] [--repeats 3] [--threads 1]

RIDE's router (stage 2, ``MultiExpertClsHead(router=...)``) lets each test image stop after the first experts.
``RIDEClassifier.predict`` computes each expert only for the images routed to it; mmpretrain's
``ImageClassifier.predict`` on the same model computes every expert for every image and then applies the router.
On the Digits-LT test split (made under ``--work-dir`` if absent) this prints, as the table of RIDE's paper:

- top-1 accuracy of the router's prediction (the same for both, checked image by image) and of the mean of all
  experts (no router),
- the mean number of experts per image,
- the measured inference time of the whole split: the process's CPU time (best of ``--repeats``, ``--threads``
  intra-op threads), which unlike wall time does not depend on what else the machine runs, and the wall time,
- the FLOPs (multiply-adds x 2 of convolutions and matrix products, counted by ``torch.utils.flop_counter``) of the
  whole split, and both relative to computing every expert.

Without ``--checkpoint`` the model has random weights, its router's bias shifted so that a ``--continue-fraction``
of the images go on to expert 1 (the cost columns are meaningful, the accuracy is chance); with the checkpoint of
the stage-2 config (``ride-ea_*``) it is the trained model.
"""
import argparse
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.models import ImageClassifier
from torch.utils.flop_counter import FlopCounterMode

from ltmm.demo.digits_lt import make_digits_lt
from ltmm.engine import build_classifier, model_config

DEFAULT_CONFIG = 'configs/ride/ride-ea_resnet32_1xb32_digits-lt_5e.py'
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='a RIDE stage-2 config (router), Digits-LT data')
    parser.add_argument('--checkpoint', help='its trained checkpoint; random weights when omitted')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/ride_routing', help='holds data/digits_lt')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--repeats', type=int, default=3, help='timed passes over the split; the best is reported')
    parser.add_argument('--threads', type=int, default=1, help='torch intra-op threads while timing')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random weights')
    parser.add_argument('--continue-fraction', type=float, default=0.5,
                        help='random weights: the fraction of images the router sends on after expert 0')
    return parser.parse_args()


def load_batches(cfg: Config, batch_size: int, model: torch.nn.Module) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """The test split as preprocessed (inputs, labels) batches."""
    loader_cfg = dict(cfg.test_dataloader, batch_size=batch_size, num_workers=0, persistent_workers=False)
    batches = []
    for data in Runner.build_dataloader(loader_cfg):
        data = model.data_preprocessor(data, False)
        batches.append((data['inputs'], torch.cat([s.gt_label for s in data['data_samples']])))
    return batches


def run(predict: Callable, batches: List[Tuple[torch.Tensor, torch.Tensor]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """(predicted labels, experts used) over all batches."""
    labels, used = [], []
    with torch.no_grad():
        for inputs, _ in batches:
            samples = predict(inputs)
            labels += [int(s.pred_label) for s in samples]
            used += [int(s.get('num_experts', 0)) for s in samples]
    return torch.tensor(labels), torch.tensor(used, dtype=torch.float64)


def measure(predict: Callable, batches: List[Tuple[torch.Tensor, torch.Tensor]], repeats: int) -> Dict[str, float]:
    """Best CPU and wall time over ``repeats`` passes and the FLOPs of one pass."""
    run(predict, batches[:1])  # warm-up
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        run(predict, batches)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    counter = FlopCounterMode(display=False)
    with counter:
        run(predict, batches)
    return dict(cpu=min(cpu), wall=min(wall), flops=float(counter.get_total_flops()))


def calibrate_router(model: torch.nn.Module, batches: List[Tuple[torch.Tensor, torch.Tensor]],
                     fraction: float) -> None:
    """Shift the router's output bias so that ``fraction`` of the images continue after expert 0."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f'--continue-fraction must lie in [0, 1], got {fraction}')
    head = model.head
    with torch.no_grad():
        decisions = []
        for inputs, _ in batches:
            feats = head.expert_features(model.extract_feat(inputs))
            decisions.append(head.router(feats[:, 0], head._expert_logits(feats)[:, 0], 0))
        head.router.fc.bias -= torch.quantile(torch.cat(decisions), 1.0 - fraction)


def main() -> None:
    args = parse_args()
    config = args.config if osp.isabs(args.config) else osp.join(REPO, args.config)
    checkpoint = None if args.checkpoint is None else osp.abspath(args.checkpoint)
    os.makedirs(args.work_dir, exist_ok=True)
    os.chdir(args.work_dir)  # the config's relative data_root (data/digits_lt/) resolves here
    if not osp.isdir(osp.join('data', 'digits_lt')):
        make_digits_lt(osp.join('data', 'digits_lt'))
    cfg = Config.fromfile(config)
    torch.manual_seed(args.seed)
    if checkpoint is None:
        from mmengine.registry import init_default_scope
        from mmpretrain.registry import MODELS

        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        model = MODELS.build(model_config(cfg)).eval()
    else:
        model = build_classifier(cfg, checkpoint)
    if not getattr(model, 'routes_experts', False):
        raise ValueError(f'{args.config}: the model must be a RIDEClassifier with a router (a ride-ea_* config)')
    torch.set_num_threads(args.threads)
    batches = load_batches(cfg, args.batch_size, model)
    if checkpoint is None:
        calibrate_router(model, batches, args.continue_fraction)
    targets = torch.cat([labels for _, labels in batches])
    num_experts = model.head.num_experts

    full_predict = lambda x: ImageClassifier.predict(model, x)  # noqa: E731  every expert, then the router
    routed_labels, used = run(model.predict, batches)
    full_labels, full_used = run(full_predict, batches)
    if not (torch.equal(routed_labels, full_labels) and torch.equal(used, full_used)):
        raise RuntimeError('routed predictions differ from computing every expert')
    router = model.head.router
    model.head.router = None  # the mean of all experts
    mean_labels, _ = run(full_predict, batches)
    model.head.router = router

    full = measure(full_predict, batches, args.repeats)
    routed = measure(model.predict, batches, args.repeats)
    weights = 'random weights' if checkpoint is None else f'checkpoint {args.checkpoint}'
    if checkpoint is None:
        weights += f', router calibrated to continue for {args.continue_fraction:g} of the images after expert 0'
    print(f'{osp.relpath(config, REPO)} ({weights}), Digits-LT test split ({len(targets)} images), batch '
          f'{args.batch_size}, {args.threads} thread(s), times = best of {args.repeats}\n')
    print('| inference | top-1 (%) | experts used / image | experts computed / image | CPU time (s) | vs all '
          '| wall time (s) | vs all | GFLOPs | vs all |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    acc = lambda labels: 100.0 * (labels == targets).double().mean().item()  # noqa: E731
    print(f'| all {num_experts} experts, mean (no router) | {acc(mean_labels):.1f} | {num_experts:.2f} '
          f'| {num_experts:.2f} | - | - | - | - | - | - |')
    rows = [(f'all {num_experts} experts computed, then the router', full_labels, float(num_experts), full),
            ('routed: each expert only for its images', routed_labels, used.mean().item(), routed)]
    for name, labels, computed, cost in rows:
        print(f'| {name} | {acc(labels):.1f} | {used.mean().item():.2f} | {computed:.2f} '
              f'| {cost["cpu"]:.3f} | {cost["cpu"] / full["cpu"]:.2f} '
              f'| {cost["wall"]:.3f} | {cost["wall"] / full["wall"]:.2f} | {cost["flops"] / 1e9:.3f} '
              f'| {cost["flops"] / full["flops"]:.2f} |')
    histogram = ', '.join(f'{k}: {int((used == k).sum())}' for k in range(1, num_experts + 1))
    print(f'\nimages by experts used: {histogram}')


if __name__ == '__main__':
    main()
