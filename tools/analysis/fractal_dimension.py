"""Compute the per-class box-centre fractal dimension of a COCO / LVIS training annotation file (FRACAL's spatial
statistic) and write the JSON that ``FRACALCalibration`` reads.

    python tools/analysis/fractal_dimension.py data/lvis_v1/annotations/lvis_v1_train.json \\
        -o data/lvis_v1/annotations/lvis_v1_train_fractal_dim.json

For every class: the slope of ln N(d) against ln d, N(d) the number of cells of a d x d grid over the normalised
image holding one of its box centres, over the grid sizes d = 1 .. --max-grid with at least d^2 boxes; 1 for a class
with fewer than 4 boxes or a slope below 1 (kostas1515/FRACAL stat_files/calculate_fractality.py, box_dim, 64 grid
sizes). Run it on the training annotations only. The JSON also holds the images and boxes per class (checked against
class_stats) and the number of images of the file (FRACAL's frequency denominator). A missing file, an unknown
category or image id, a malformed box or a class without boxes (unless --allow-empty) is an error (exit status 1).
"""
import argparse
import sys

from ltmm.core.fractal_dimension import compute_fractal_dimensions
from ltmm.core.splits import GROUPS, lvis_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file', help='COCO / LVIS training annotation json')
    parser.add_argument('-o', '--out', required=True, help='output JSON file')
    parser.add_argument('--max-grid', type=int, default=64, help='largest grid size d (official: 64)')
    parser.add_argument('--allow-empty', action='store_true',
                        help='give a class without boxes D = 1 (as the official script) instead of failing')
    args = parser.parse_args()

    try:
        result = compute_fractal_dimensions(args.ann_file, args.max_grid, args.allow_empty, progress=True)
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    result.save(args.out)
    dims = result.fractal_dimension
    groups = lvis_groups(result.image_count)
    means = ', '.join(f'{name} {dims[groups == name].mean():.3f} ({int((groups == name).sum())} classes)'
                      for name in GROUPS['lvis'] if (groups == name).any())
    print(f'{args.ann_file}: {result.num_classes} classes, {int(result.instance_count.sum())} boxes, '
          f'{result.num_images} images; fractal dimension min {dims.min():.3f}, max {dims.max():.3f}, '
          f'{int((dims == 1).sum())} classes at 1; mean by training images (LVIS r / c / f): {means}')
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
