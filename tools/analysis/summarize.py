"""A markdown table of AP / APr / APc / APf (detection), All / Many / Medium / Few (classification) or mAP / Head /
Medium / Tail (multi-label) across work dirs, mean and standard deviation over seeds.

    python tools/analysis/summarize.py work_dirs/eqlv2_seed0 work_dirs/eqlv2_seed1 work_dirs/baseline_seed0 \
        --metric bbox [-o table.md]

Runs are grouped by their folder name with the seed removed (``..._seed1``, ``...-seed2``, ``.../seed3``), or by
``--name NAME`` per run. Each run's numbers come from the newest per-class record the metrics write
(``ltmm.core.per_class.RECORDS``: ``per_class_bbox_ap.json``, ``per_class_accuracy.json``, ``per_class_ap.json``...),
or else the newest mmengine json log holding the keys (``lvis/bbox_AP`` ... for mmdet's ``LVISMetric``,
``shot/many`` ... for ``ShotAccuracy``, ``shot_map/head`` ... for ``MultiLabelShotMAP``). A run may also be given
as the ``reproduce.json`` that ``docker/reproduce.sh`` writes. Numbers are shown in percent.
"""
import argparse
import os
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np

from ltmm.core.per_class import RECORDS, read_run

SEED = re.compile(r'[_\-.]?seed[_\-]?\d+', re.IGNORECASE)


def run_name(work_dir: str) -> str:
    """Folder name without the seed: 'eqlv2_seed1' -> 'eqlv2', 'eqlv2/seed1' -> 'eqlv2' (a run's record file:
    its folder's name)."""
    if os.path.isfile(work_dir):
        work_dir = os.path.dirname(work_dir)
    parts = os.path.normpath(os.path.abspath(work_dir)).split(os.sep)
    name = SEED.sub('', parts[-1])
    return name or parts[-2]


def summarize(work_dirs: List[str], metric: str, names: Optional[List[str]] = None) -> str:
    """The markdown table (one row per run name: mean +- std over its seeds)."""
    record = RECORDS[metric]
    groups: Dict[str, List[Dict[str, float]]] = OrderedDict()
    for i, work_dir in enumerate(work_dirs):
        groups.setdefault(names[i] if names else run_name(work_dir), []).append(read_run(work_dir, metric))
    lines = ['| run | seeds | ' + ' | '.join(record.headers) + ' |', '|---|---|' + '---|' * len(record.columns)]
    for name, runs in groups.items():
        cells = []
        for column in record.columns:
            v = np.array([r[column] for r in runs])
            if (v < 0).any():  # -1: the group had no evaluated class in some run
                cells.append('n/a')
            elif len(v) > 1:
                cells.append(f'{record.scale * v.mean():.1f} ± {record.scale * v.std(ddof=1):.1f}')
            else:
                cells.append(f'{record.scale * v[0]:.1f}')
        lines.append(f'| {name} | {len(runs)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--metric', choices=sorted(RECORDS), default='bbox')
    parser.add_argument('--name', nargs='+', help='run name of each work dir (default: folder name without seed)')
    parser.add_argument('-o', '--out', help='also write the table to this markdown file')
    args = parser.parse_args(argv)
    if args.name and len(args.name) != len(args.work_dirs):
        parser.error(f'{len(args.name)} names for {len(args.work_dirs)} work dirs')
    table = summarize(args.work_dirs, args.metric, args.name)
    print(table)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
