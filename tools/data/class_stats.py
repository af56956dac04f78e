"""Count per-class training statistics and write ltmm's class_stats JSON.

    python tools/data/class_stats.py data/lvis_v1/annotations/lvis_v1_train.json -o data/lvis_v1/class_stats.json
    python tools/data/class_stats.py data/ImageNet_LT/ImageNet_LT_train.txt --num-classes 1000 -o in_lt_stats.json

Input: an LVIS / COCO json, an OpenMMLab 2.0 json (data_list with gt_label) or a "<path> <label> [<label> ...]"
list. The output holds num_images, image_count, instance_count (and classes where the source names them).
"""
import argparse
import json
import os

import numpy as np

from ltmm.class_stats import count_class_stats, lvis_frequency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file', help='annotation file to count')
    parser.add_argument('-o', '--out', required=True, help='output JSON file')
    parser.add_argument('--num-classes', type=int, help='label-space size for label lists (default: inferred)')
    args = parser.parse_args()

    stats = count_class_stats(args.ann_file, args.num_classes)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(stats.to_dict(), f, indent=1)
    counts = stats.image_count
    groups = [lvis_frequency(int(n)) for n in counts]
    print(f'{args.ann_file}: {stats.num_images} images, {stats.num_classes} classes, '
          f'{int(stats.instance_count.sum())} instances; images per class: max {counts.max()}, '
          f'median {int(np.median(counts))}, min {counts.min()}, empty {int((counts == 0).sum())}; '
          f'LVIS groups r/c/f = {groups.count("r")}/{groups.count("c")}/{groups.count("f")}; '
          f'shots many/medium/few = {int((counts > 100).sum())}/{int(((counts >= 20) & (counts <= 100)).sum())}/'
          f'{int((counts < 20).sum())}')
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
