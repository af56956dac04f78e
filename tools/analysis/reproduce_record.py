"""The record of one reproduction run (``docker/reproduce.sh``): the metrics of the config's task, read from the
run's work dir, written to ``reproduce.json`` and ``reproduce.md`` (a markdown table row) in that dir.

    python tools/analysis/reproduce_record.py CONFIG WORK_DIR --seed 0 --gpus 2 [--checkpoint CKPT]

The task's metrics follow the config's ``test_evaluator``: ``FastLVISMetric`` / ``LVISMetric`` give LVIS AP / APr /
APc / APf per iou type (``bbox``, ``segm``), ``ShotAccuracy`` All / Many / Medium / Few accuracy and
``MultiLabelShotMAP`` mAP / head / medium / tail. ``tools/analysis/summarize.py`` turns the work dirs (or their
``reproduce.json`` files) of several seeds and configs into the reproduction table.
"""
import argparse
import json
import os
import platform
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

import ltmm.engine  # noqa: F401  (registers the task packages whose evaluators the config names)
from ltmm import __version__
from ltmm.core.per_class import RECORDS, REPRODUCE_FORMAT, read_run

LVIS_METRICS = ('FastLVISMetric', 'LVISMetric')
TASK_METRICS = {'ShotAccuracy': ['accuracy'], 'MultiLabelShotMAP': ['map']}


def task_metrics(cfg: Config, config_file: str = 'the config') -> List[str]:
    """The :data:`RECORDS` keys the config's ``test_evaluator`` reports, in order (e.g. ``['bbox', 'segm']``)."""
    evaluators = cfg.get('test_evaluator')
    if evaluators is None:
        raise ValueError(f'{config_file}: no test_evaluator, so no metrics to reproduce')
    found: List[str] = []
    for evaluator in evaluators if isinstance(evaluators, (list, tuple)) else [evaluators]:
        kind = evaluator.get('type', '')
        kind = kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
        kind = kind.split('.')[-1]
        if kind in LVIS_METRICS:
            iou_types = evaluator.get('metric', 'bbox')
            found += [iou_types] if isinstance(iou_types, str) else list(iou_types)
        else:
            found += TASK_METRICS.get(kind, [])
    if not found:
        raise ValueError(f'{config_file}: test_evaluator {evaluators} has no long-tail metric ltmm can record '
                         f'(expected one of {", ".join(LVIS_METRICS + tuple(TASK_METRICS))})')
    return found


def write_record(config_file: str, work_dir: str, seed: int, gpus: int, checkpoint: Optional[str] = None) -> Dict:
    """Read the run's metrics and write ``reproduce.json`` and ``reproduce.md`` into ``work_dir``."""
    cfg = Config.fromfile(config_file)
    metrics = {m: read_run(work_dir, m) for m in task_metrics(cfg, config_file)}
    record = dict(format=REPRODUCE_FORMAT, config=config_file, seed=seed, gpus=gpus, checkpoint=checkpoint,
                  metrics=metrics, ltmm=__version__, torch=torch.__version__, python=platform.python_version(),
                  device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')
    with open(os.path.join(work_dir, 'reproduce.json'), 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1)
    name = os.path.splitext(os.path.basename(config_file))[0]
    rows = []
    for metric, values in metrics.items():
        kind = RECORDS[metric]
        cells = ' | '.join(f'{kind.scale * values[c]:.1f}' if values[c] >= 0 else 'n/a' for c in kind.columns)
        rows.append(f'| {name} | {metric} | {seed} | {cells} |')
    with open(os.path.join(work_dir, 'reproduce.md'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(rows) + '\n')
    print('\n'.join(rows))
    return record


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('work_dir')
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--gpus', type=int, required=True)
    parser.add_argument('--checkpoint')
    args = parser.parse_args(argv)
    write_record(args.config, args.work_dir, args.seed, args.gpus, args.checkpoint)


if __name__ == '__main__':
    main()
