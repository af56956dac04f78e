"""Per-class AP or accuracy against training count (log x axis), coloured by class group (LVIS r / c / f, shot
few / medium / many, multi-label tail / medium / head), for one or several runs side by side.

    python tools/analysis/plot_per_class.py work_dirs/baseline work_dirs/eqlv2 --metric bbox -o bbox.png
    python tools/analysis/plot_per_class.py work_dirs/lenet work_dirs/bsce --metric accuracy -o acc.png
    python tools/analysis/plot_per_class.py work_dirs/bce work_dirs/db-focal --metric map -o map.png

Each argument is a work dir (its newest per-class record of ``--metric``, written by ``FastLVISMetric`` /
``ShotAccuracy`` / ``MultiLabelShotMAP``, is used) or such a json file. ``--labels`` names the panels (default: the
folder names).
"""
import argparse
import os
from typing import List, Optional

from ltmm.core.per_class import RECORDS, find_record, load_per_class, plot_per_class_panels


def find_per_class(path: str, metric: str) -> str:
    """The per-class json of ``metric`` for a work dir (newest, searched recursively), or ``path`` if a file."""
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise FileNotFoundError(f'no such work dir or file {path!r}')
    found = find_record(path, metric)
    if found is None:
        raise FileNotFoundError(f'{path}: no {RECORDS[metric].file}.json (run the test / validation with '
                                'FastLVISMetric, ShotAccuracy or MultiLabelShotMAP, which write it to the log folder)')
    return found


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='+', help='work dirs or per-class json files')
    parser.add_argument('--metric', choices=sorted(RECORDS), default='bbox')
    parser.add_argument('--labels', nargs='+', help='panel titles, one per run')
    parser.add_argument('-o', '--out', required=True, help='output PNG')
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.runs):
        parser.error(f'{len(args.labels)} labels for {len(args.runs)} runs')

    panels, metric_name, order = [], None, ()
    for i, run in enumerate(args.runs):
        path = find_per_class(run, args.metric)
        data = load_per_class(path)
        label = args.labels[i] if args.labels else os.path.basename(os.path.normpath(run))
        summary = ', '.join(f'{k} {data["summary"][k]:.3g}' for k in RECORDS[args.metric].columns
                            if k in data['summary'])
        panels.append(dict(values=data['value'], train_counts=data['train_count'], groups=data['group'],
                           title=f'{label}\n{summary}'))
        metric_name, order = data['metric'], data.get('group_order', ())
        print(f'{label}: {path}')
    print(f'written {plot_per_class_panels(panels, args.out, metric_name, order)}')


if __name__ == '__main__':
    main()
