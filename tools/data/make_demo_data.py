"""Generate ltmm's embedded demo data sets (nothing is downloaded).

    python tools/data/make_demo_data.py lt_shapes --out-dir data/lt_shapes    # detection, LVIS v1 format
    python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt    # classification, ImageNet-LT lists

Same seed, same files. A finished folder (its marker file exists) is kept unless --force is given.
"""
import argparse
import json
import os
import shutil

from ltmm.demo.digits_lt import make_digits_lt
from ltmm.demo.lt_shapes import make_lt_shapes

GENERATORS = {'lt_shapes': make_lt_shapes, 'digits_lt': make_digits_lt}
MARKER = '.ltmm_generated.json'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('dataset', choices=sorted(GENERATORS))
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true', help='regenerate even if the folder is complete')
    args = parser.parse_args()

    marker = os.path.join(args.out_dir, MARKER)
    settings = dict(dataset=args.dataset, seed=args.seed)
    if os.path.isfile(marker) and not args.force:
        with open(marker, encoding='utf-8') as f:
            if json.load(f).get('settings') == settings:
                print(f'{args.out_dir}: already generated ({args.dataset}, seed {args.seed})')
                return
    if os.path.isdir(args.out_dir):
        shutil.rmtree(args.out_dir)
    sizes = GENERATORS[args.dataset](args.out_dir, seed=args.seed)
    with open(marker, 'w', encoding='utf-8') as f:
        json.dump(dict(settings=settings, sizes=sizes), f)
    print(f'{args.out_dir}: {args.dataset} written {sizes}')


if __name__ == '__main__':
    main()
