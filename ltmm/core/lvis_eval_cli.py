"""``ltmm-lvis-eval``: LVIS evaluation from the command line, lvis-api's numbers (:mod:`ltmm.core.lvis_eval`), with
numpy and pycocotools only.

    ltmm-lvis-eval lvis_v1_val.json results.segm.json --iou segm
    ltmm-lvis-eval lvis_v1_val.json results.bbox.json --out metrics.json --per-class per_class.json

Prints AP, AP50, AP75, APs / APm / APl, APr / APc / APf and AR@300 per iou type, with the time of each stage on
stderr; ``--out`` writes the metrics as json ({iou type: {metric: value}}), ``--per-class`` each category's AP in
ltmm's per-class record format (``per_class.<iou>.json`` when more than one iou type is asked). Exit status 2 on bad
input (a missing file, a result for an image or category the ground truth lacks, a result without ``bbox`` or
``segmentation`` for the asked iou type), with the reason on stderr.
"""
import argparse
import json
import os
import sys
import time
from typing import Dict, List, Optional

from .lvis_eval import LVISEvalOutput, load_json, run_lvis_eval
from .per_class import save_per_class

ROWS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf')


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """A markdown table: one row per iou type, the metrics in percent (-1: no category with ground truth)."""
    keys = list(ROWS) + [k for k in next(iter(results.values())) if k.startswith('AR@')]
    lines = ['| iou | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
    for iou, summary in results.items():
        cells = [f'{100 * summary[k]:.2f}' if summary[k] >= 0 else '-1' for k in keys]
        lines.append(f'| {iou} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def per_class_file(path: str, iou: str, many: bool) -> str:
    root, ext = os.path.splitext(path)
    return f'{root}.{iou}{ext or ".json"}' if many else path


def save_output(out: LVISEvalOutput, path: str, iou: str) -> str:
    """Each category's AP against its training image count, grouped by frequency (ltmm's per-class format)."""
    return save_per_class(path, out.per_class_ap(), out.image_count, out.frequency, out.cat_names, f'{iou} AP', 'lvis',
                          out.summary)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='ltmm-lvis-eval', description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('gt', metavar='GT.json', help='LVIS-format ground truth (e.g. lvis_v1_val.json)')
    parser.add_argument('results', metavar='RESULTS.json', help='LVIS result list (image_id, category_id, score, '
                        'bbox and / or segmentation)')
    parser.add_argument('--iou', nargs='+', choices=['bbox', 'segm'], default=['bbox'], help='iou types (bbox)')
    parser.add_argument('--max-dets', type=int, default=300, help='detections kept per image (300; -1: all)')
    parser.add_argument('--out', help='write the metrics as json')
    parser.add_argument('--per-class', help='write each category\'s AP (ltmm per-class json)')
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f'[ltmm-lvis-eval {time.perf_counter() - start:6.1f} s] {message}', file=sys.stderr, flush=True)

    start = time.perf_counter()
    results: Dict[str, Dict[str, float]] = {}
    try:
        gt = load_json(args.gt, 'ground truth')  # parsed once for every iou type
        for iou in args.iou:
            out = run_lvis_eval(gt, args.results, iou, max_dets=args.max_dets, log=log, gt_name=args.gt)
            results[iou] = out.summary
            if args.per_class:
                log(f'per-class {iou} AP written to '
                    f'{save_output(out, per_class_file(args.per_class, iou, len(args.iou) > 1), iou)}')
    except (OSError, ValueError) as e:
        print(f'ltmm-lvis-eval: error: {e}', file=sys.stderr)
        return 2
    print(format_table(results))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
        log(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
