"""Per-category LVIS AP against training image count, as a PNG, a CSV and a per-class json (for
``plot_per_class.py`` / ``summarize.py``).

    python tools/analysis/per_class_ap.py GT_JSON RESULTS_JSON --iou-type segm --out-dir work_dirs/x/

GT_JSON is the LVIS-format ground truth (its categories' ``image_count`` and ``frequency`` describe the training
set, as in LVIS); RESULTS_JSON the detections (e.g. what LVISMetric writes with ``outfile_prefix``).
"""
import argparse
import csv
import os

from ltmm.core.per_class import plot_per_class, save_per_class
from ltmm.core.splits import GROUPS
from ltmm.det.evaluation.lvis_per_class import lvis_per_class_ap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('gt', help='LVIS-format ground-truth json')
    parser.add_argument('results', help='LVIS result json (list of detections)')
    parser.add_argument('--iou-type', choices=['bbox', 'segm'], default='bbox')
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args()

    res = lvis_per_class_ap(args.gt, args.results, args.iou_type)
    s = res['summary']
    print(f'LVIS {args.iou_type}: AP {s["AP"]:.4f}  APr {s["APr"]:.4f}  APc {s["APc"]:.4f}  APf {s["APf"]:.4f}')
    os.makedirs(args.out_dir, exist_ok=True)
    csv_file = os.path.join(args.out_dir, f'per_class_{args.iou_type}_ap.csv')
    with open(csv_file, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['category', 'frequency', 'train_images', 'ap'])
        for row in zip(res['names'], res['frequency'], res['image_count'], res['ap']):
            writer.writerow(row)
    png = plot_per_class(res['ap'], res['image_count'], os.path.join(args.out_dir, f'per_class_{args.iou_type}_ap.png'),
                         f'{args.iou_type} AP', res['frequency'], GROUPS['lvis'],
                         title=f'per-class {args.iou_type} AP vs training images (LVIS groups r / c / f)')
    js = save_per_class(os.path.join(args.out_dir, f'per_class_{args.iou_type}_ap.json'), res['ap'],
                        res['image_count'], res['frequency'], res['names'], f'{args.iou_type} AP', 'lvis', s)
    print(f'written {png}, {csv_file} and {js}')


if __name__ == '__main__':
    main()
