"""Draw CIFAR-10-LT / CIFAR-100-LT from a CIFAR python archive exactly as ``CIFARLTDataset`` does at load, print its
per-class counts and shot split, and write its class_stats JSON.

    python tools/data/make_cifar_lt.py data/cifar100 --num-classes 100 --imbalance-factor 100 \
        -o data/cifar100/cifar100_lt_if100_class_stats.json

The configs in configs/_base_/datasets/cifar{10,100}_lt.py compute the same counts inline and need no file; the JSON
is for a config with another imbalance factor or seed (point ``class_stats`` at it) and for other tools.
"""
import argparse

import numpy as np

from ltmm.cls.datasets.cifar_lt import load_cifar_archive, long_tail_indices
from ltmm.core.class_stats import ClassStats
from ltmm.core.splits import shot_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('data_root', help='folder holding cifar-10-batches-py or cifar-100-python')
    parser.add_argument('--num-classes', type=int, choices=(10, 100), default=100)
    parser.add_argument('--imbalance-factor', type=float, default=100.0, help='head / tail count ratio (100)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the per-class shuffles (0, as LDAM-DRW)')
    parser.add_argument('-o', '--out', required=True, help='output class_stats JSON')
    args = parser.parse_args()

    _, labels, classes = load_cifar_archive(args.data_root, args.num_classes, 'train')
    keep = long_tail_indices(labels, args.num_classes, args.imbalance_factor, args.seed)
    counts = np.bincount(labels[keep], minlength=args.num_classes)
    ClassStats(len(keep), counts, counts, classes, args.data_root).save(args.out)
    groups = shot_groups(counts).tolist()
    print(f'CIFAR-{args.num_classes}-LT, imbalance factor {args.imbalance_factor:g}, seed {args.seed}: '
          f'{len(keep)} training images, {counts.max()} ... {counts.min()} per class; shots many/medium/few = '
          f'{groups.count("many")}/{groups.count("medium")}/{groups.count("few")}')
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
