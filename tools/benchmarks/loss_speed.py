"""Forward + backward time of ltmm's detection classification losses at LVIS scale, against plain sigmoid BCE and
mmdet's Seesaw loss, measured in the same process.

    python tools/benchmarks/loss_speed.py                      # CPU, 1024 and 8192 RoIs, 1203 classes
    python tools/benchmarks/loss_speed.py --device cuda --repeat 50

Workload: N sampled RoIs (a quarter foreground, like mmdet's 512-RoI sampler with pos_fraction 0.25), labels of the
foreground RoIs drawn from a long-tailed class distribution, logits N(-4, 2). Each loss gets the classifier width
it asks for (C for EQL, GOL and EFL, C+1 for the sigmoid losses, C+2 for Seesaw, C+6 for BAGS). The time is the
median over ``--repeat`` runs of loss + backward; the ratio is against plain sigmoid BCE over C+1 columns
(``sum / N``). EFL is a dense-head loss (one row per anchor): timed on the same rows, it costs what it would per
anchor.
"""
import argparse
import statistics
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import ltmm.det  # noqa: F401  (registers the losses)


def make_inputs(num_rois: int, num_classes: int, device: str, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.full((num_rois,), num_classes, dtype=torch.long)
    num_fg = num_rois // 4
    class_prob = 1.0 / torch.arange(1, num_classes + 1, dtype=torch.float64)  # Zipf-like long tail
    labels[:num_fg] = torch.multinomial(class_prob, num_fg, replacement=True, generator=gen)
    return labels[torch.randperm(num_rois, generator=gen)].to(device)


def class_stats(num_classes: int) -> dict:
    counts = [max(1, int(20000 / (c + 1))) for c in range(num_classes)]
    return dict(num_images=100000, image_count=counts, instance_count=counts)


def build_losses(num_classes: int, device: torch.device) -> Dict[str, tuple]:
    """name -> (callable(cls_score, labels) -> scalar loss, classifier width)."""
    stats = class_stats(num_classes)

    def build(**cfg):
        return MODELS.build(dict(num_classes=num_classes, **cfg)).to(device)

    eql = build(type='EqualizationLoss', class_stats=stats)
    eqlv2 = build(type='EqualizationLossV2')
    fed = build(type='FederatedLoss', class_stats=stats)
    sigmoid_ce = build(type='SigmoidCELoss')
    rank = build(type='ROGRankingLoss')
    seesaw = build(type='SeesawLoss')
    gol = build(type='GumbelLoss', class_stats=stats)
    ecm = build(type='ECMLoss', class_stats=stats)
    bags = build(type='BalancedGroupSoftmaxLoss', class_stats=stats)
    efl = build(type='EqualizedFocalLoss', num_levels=1)  # one call per iteration: statistics updated every call

    def bce(score, labels):
        target = F.one_hot(labels, num_classes + 1).float()
        return F.binary_cross_entropy_with_logits(score, target, reduction='sum') / score.size(0)

    def seesaw_loss(score, labels):
        out = seesaw(score, labels, score.new_ones(labels.numel()), avg_factor=labels.numel())
        return sum(out.values())

    return {
        'sigmoid BCE (baseline)': (bce, num_classes + 1),
        'mmdet SeesawLoss': (seesaw_loss, num_classes + 2),
        'EqualizationLoss (EQL)': (eql, num_classes),
        'EqualizationLossV2': (eqlv2, num_classes + 1),
        'FederatedLoss': (fed, num_classes + 1),
        'ROGRankingLoss alone': (rank, num_classes + 1),
        'ROG (SigmoidCE + loss_rank)': (lambda s, y: sigmoid_ce(s, y) + rank(s, y), num_classes + 1),
        'GumbelLoss (GOL)': (gol, num_classes),
        'ECMLoss': (ecm, num_classes + 1),
        'BalancedGroupSoftmaxLoss (BAGS)': (bags, bags.get_cls_channels(num_classes)),
        'EqualizedFocalLoss (EFL)': (efl, num_classes),
    }


def time_loss(fn: Callable, width: int, labels: torch.Tensor, repeat: int, warmup: int) -> float:
    gen = torch.Generator().manual_seed(1)
    base = (torch.randn(labels.numel(), width, generator=gen) * 2 - 4).to(labels.device)
    times: List[float] = []
    for i in range(warmup + repeat):
        score = base.clone().requires_grad_(True)
        if labels.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn(score, labels).backward()
        if labels.is_cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--num-classes', type=int, default=1203)
    parser.add_argument('--num-rois', type=int, nargs='+', default=[1024, 8192])
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    losses = build_losses(args.num_classes, torch.device(args.device))
    print(f'device: {args.device} ({torch.get_num_threads()} CPU threads), C = {args.num_classes}, '
          f'median of {args.repeat} runs of forward + backward')
    for num_rois in args.num_rois:
        labels = make_inputs(num_rois, args.num_classes, args.device)
        results = {name: time_loss(fn, width, labels, args.repeat, args.warmup)
                   for name, (fn, width) in losses.items()}
        baseline = results['sigmoid BCE (baseline)']
        print(f'\n| {num_rois} RoIs x {args.num_classes + 1} logits | ms | ratio vs BCE |\n|---|---|---|')
        for name, seconds in results.items():
            print(f'| {name} | {seconds * 1e3:.1f} | {seconds / baseline:.2f}x |')


if __name__ == '__main__':
    main()
