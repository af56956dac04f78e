"""Count per-class training statistics and write ltmm's class_stats JSON.

    python tools/data/class_stats.py data/lvis_v1/annotations/lvis_v1_train.json -o data/lvis_v1/class_stats.json
    python tools/data/class_stats.py data/ImageNet_LT/ImageNet_LT_train.txt --num-classes 1000 -o in_lt_stats.json

Input: an LVIS / COCO json, an OpenMMLab 2.0 json (data_list with gt_label) or a "<path> <label> [<label> ...]"
list. The output holds num_images, image_count, instance_count (and classes where the source names them).
"""
import argparse

import numpy as np

from ltmm.core.class_stats import count_class_stats
from ltmm.core.splits import group_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file', help='annotation file to count')
    parser.add_argument('-o', '--out', required=True, help='output JSON file')
    parser.add_argument('--num-classes', type=int, help='label-space size for label lists (default: inferred)')
    args = parser.parse_args()

    stats = count_class_stats(args.ann_file, args.num_classes)
    stats.save(args.out)
    counts = stats.image_count
    groups = '; '.join(f'{name} {"/".join(g)} = {"/".join(map(str, g.values()))}'
                       for name, g in group_counts(counts).items())
    print(f'{args.ann_file}: {stats.num_images} images, {stats.num_classes} classes, '
          f'{int(stats.instance_count.sum())} instances; images per class: max {counts.max()}, '
          f'median {int(np.median(counts))}, min {counts.min()}, empty {int((counts == 0).sum())}; groups: {groups}')
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
