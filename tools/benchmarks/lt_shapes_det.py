"""Every ltmm detection method side by side on LT-Shapes, on the CPU, with and without repeat-factor sampling, over
several seeds.

    python tools/benchmarks/lt_shapes_det.py [--seeds 0 1 2] [--methods ce eql ...] [--samplers random rfs]
                                             [--work-dir DIR] [--record FILE] [--rerun] [--report]

Trains the LT-Shapes demo detector (Mask R-CNN with a narrow ResNet-18 and a 64-channel FPN, 4 epochs, from
scratch; configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py) with each method's LT-Shapes config from ``configs/``
and reports the LVIS metrics of the LT-Shapes val split (150 images, every class present), box and mask AP / APr /
APc / APf, as mean +- std over the seeds, and the change of box APr against the baseline with the same sampler
(softmax CE for the softmax losses, sigmoid CE for the sigmoid ones). LT-Shapes has 30 classes over 698 training
images: 11 rare (<= 10 training images), 13 common, 6 frequent, as LVIS's r / c / f thresholds.

Samplers (``--samplers``): ``random`` (the configs as they are) and ``rfs``, repeat-factor sampling
(mmdet's ``ClassBalancedDataset``) with ``oversample_thr=0.15``: a class in fewer than 15 % of the training images
(about 100 of 698, every rare and common class) is repeated, as ``1e-3`` (about 100 of LVIS v1's 99,388 annotated
images) repeats LVIS's rare and common classes. The seed changes the training (weights, sampling, augmentation); the
LT-Shapes data are always the same (generated with seed 0).

Methods (``--methods``; all by default):
  ce            softmax cross-entropy: the demo detector (configs/demo)
  sigmoid-ce    sigmoid cross-entropy with an objectness column (configs/demo)
  eql           Equalization Loss, lambda 0.15 (configs/eql)
  eqlv2         Equalization Loss v2 (configs/eqlv2)
  fed-loss      Federated loss, 10 sampled classes (configs/fed_loss)
  rog           ROG: sigmoid CE + global ranking loss (configs/rog)
  seesaw        Seesaw loss, NormedLinear classifier (configs/seesaw)
  seesaw-nm     Seesaw loss with the NormedConv2d mask predictor (configs/seesaw)
  gol           Gumbel optimised loss, NormedConv2d masks, NMS 0.3 (configs/gol)
  ecm           Effective class-margin loss (configs/ecm)
  bags          BAGS stage 2: the CE model of the same seed and sampler, its classifier re-trained with the
                balanced group softmax, everything else frozen (configs/bags)
  aglu          APA / AGLU: SE-ResNet-18 with AGLU activations and APA gates, GOL's classifier (configs/aglu)
  retina-focal  a one-stage RetinaNet of the same sizes with the sigmoid focal loss, boxes only, 12 epochs
                (configs/efl: in 4 it barely starts learning)
  efl           Equalized Focal Loss on that RetinaNet (configs/efl)
  norcal        NorCal, post-hoc on the CE model of the same seed and sampler (configs/norcal)
  fracal        FRACAL, post-hoc on the CE model of the same seed and sampler, NMS 0.3, mask threshold 0.4
                (configs/fracal)

Outputs under ``--work-dir`` (default ``work_dirs/benchmarks/lt_shapes_det``): the data, each run's work dir
``<sampler>/seed<S>/<method>/`` (logs, checkpoint, per-class AP json + PNG, ``metrics.json``), ``results.json``
(every run's metrics), ``results.md`` (the table) and ``per_class_best_vs_ce.png`` (per-class box AP of the
Mask R-CNN long-tail method with the best mean box AP against its CE baseline, both averaged over the seeds).

The runs are also kept in the record (``--record``, default ``tools/benchmarks/records/lt_shapes_det.json``, in the
repository): each run's metrics with the commit, date and seconds it took. One run takes about 5 minutes on 2 free
cores, so the whole benchmark (about 80 runs) spans several sittings: a run whose metrics are in the record or in its
work dir's ``metrics.json`` is not repeated unless ``--rerun`` (a stage-2 or post-hoc method whose CE checkpoint is
gone trains that CE run again first). ``--report`` runs nothing and writes the table of the runs recorded so far (and
those found in the work dir, which it adds to the record), with the seeds behind each row; the README's table is made
this way.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import subprocess
import time
from typing import Any, Dict, List, Optional

import numpy as np
from mmengine.config import Config
from tqdm import tqdm

from ltmm.core.fractal_dimension import compute_fractal_dimensions
from ltmm.core.per_class import find_record, load_per_class, plot_per_class_panels
from ltmm.demo.lt_shapes import make_lt_shapes
from ltmm.engine import build_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECORD = osp.join(REPO, 'tools', 'benchmarks', 'records', 'lt_shapes_det.json')
ANN_DIR = osp.join('data', 'lt_shapes', 'annotations')
RFS_THRESHOLD = 0.15
MAX_EPOCHS = 4  # the demo detector's schedule: its last checkpoint is what the post-hoc methods calibrate
IOU_TYPES = ('bbox', 'segm')
KEYS = ('AP', 'APr', 'APc', 'APf')
# name -> (label, config, kind, baseline): 'train' trains the config; 'stage2' trains it from the CE checkpoint of the
# same seed and sampler; 'test' tests it with that checkpoint
METHODS = {
    'ce': ('Softmax CE', 'configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py', 'train', None),
    'sigmoid-ce': ('Sigmoid CE', 'configs/demo/mask-rcnn_r18-tiny_fpn_sigmoid-ce_lt-shapes.py', 'train', None),
    'eql': ('EQL', 'configs/eql/mask-rcnn_r18-tiny_fpn_eql_lt-shapes.py', 'train', 'sigmoid-ce'),
    'eqlv2': ('EQLv2', 'configs/eqlv2/mask-rcnn_r18-tiny_fpn_eqlv2_lt-shapes.py', 'train', 'sigmoid-ce'),
    'fed-loss': ('Federated loss', 'configs/fed_loss/mask-rcnn_r18-tiny_fpn_fed-loss_lt-shapes.py', 'train',
                 'sigmoid-ce'),
    'rog': ('ROG', 'configs/rog/mask-rcnn_r18-tiny_fpn_rog_lt-shapes.py', 'train', 'sigmoid-ce'),
    'seesaw': ('Seesaw', 'configs/seesaw/mask-rcnn_r18-tiny_fpn_seesaw-loss_lt-shapes.py', 'train', 'ce'),
    'seesaw-nm': ('Seesaw, normed mask', 'configs/seesaw/mask-rcnn_r18-tiny_fpn_seesaw-loss-normed-mask_lt-shapes.py',
                  'train', 'ce'),
    'gol': ('GOL', 'configs/gol/mask-rcnn_r18-tiny_fpn_gol_lt-shapes.py', 'train', 'sigmoid-ce'),
    'ecm': ('ECM', 'configs/ecm/mask-rcnn_r18-tiny_fpn_ecm_lt-shapes.py', 'train', 'sigmoid-ce'),
    'aglu': ('APA / AGLU (SE-ResNet-18, GOL)', 'configs/aglu/mask-rcnn_r18-tiny_fpn_aglu_lt-shapes.py', 'train',
             'sigmoid-ce'),
    'retina-focal': ('RetinaNet, focal loss', 'configs/efl/retinanet_r18-tiny_fpn_focal_lt-shapes.py', 'train', None),
    'efl': ('RetinaNet, EFL', 'configs/efl/retinanet_r18-tiny_fpn_efl_lt-shapes.py', 'train', 'retina-focal'),
    'bags': ('BAGS (CE model, stage 2)', 'configs/bags/mask-rcnn_r18-tiny_fpn_bags_lt-shapes.py', 'stage2', 'ce'),
    'norcal': ('NorCal (CE model)', 'configs/norcal/mask-rcnn_r18-tiny_fpn_norcal_lt-shapes.py', 'test', 'ce'),
    'fracal': ('FRACAL (CE model)', 'configs/fracal/mask-rcnn_r18-tiny_fpn_fracal_lt-shapes.py', 'test', 'ce'),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument('--samplers', nargs='+', choices=('random', 'rfs'), default=['random', 'rfs'])
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/lt_shapes_det')
    parser.add_argument('--record', default=RECORD, help='the json record of every run (read and extended)')
    parser.add_argument('--rerun', action='store_true', help='repeat runs that are recorded or have a metrics.json')
    parser.add_argument('--report', action='store_true', help='run nothing: the table of the recorded runs')
    return parser.parse_args()


def config(path: str, work_dir: str, seed: int, sampler: str, **options: Any) -> Config:
    """A method config, quiet and single-process, with the given seed and sampler, tested once after training."""
    cfg = Config.fromfile(osp.join(REPO, path))
    overrides = {f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
                 for key, value in (('num_workers', 0), ('persistent_workers', False))}
    overrides.update({'randomness.seed': seed, 'log_level': 'WARNING',  # no validation: one test after training
                      'train_cfg.val_interval': cfg.train_cfg.max_epochs + 1})
    overrides.update(options)
    cfg.merge_from_dict(overrides)
    if sampler == 'rfs':
        cfg.train_dataloader.dataset = dict(type='ClassBalancedDataset', oversample_thr=RFS_THRESHOLD,
                                            dataset=cfg.train_dataloader.dataset)
    cfg.launcher, cfg.work_dir = 'none', work_dir
    return cfg


def lvis_metrics(metrics: Dict[str, float]) -> Dict[str, float]:
    """The AP / APr / APc / APf of each iou type the run evaluated (a box-only detector has no segm)."""
    return {f'{iou}_{k}': float(metrics[f'lvis/{iou}_{k}']) for iou in IOU_TYPES for k in KEYS
            if f'lvis/{iou}_{k}' in metrics}


def run_method(name: str, seed: int, sampler: str, work_dir: str, ce_ckpt: str) -> Dict[str, float]:
    """Train and test one method for one seed and sampler (stage 2 and post-hoc methods start from the CE checkpoint
    of the same seed and sampler)."""
    _, path, kind, _ = METHODS[name]
    if kind == 'train':
        runner = build_runner(config(path, work_dir, seed, sampler))
        runner.train()
        return lvis_metrics(runner.test())
    if not osp.isfile(ce_ckpt):
        raise RuntimeError(f'{name} needs the CE checkpoint of seed {seed}, sampler {sampler} ({ce_ckpt})')
    runner = build_runner(config(path, work_dir, seed, sampler, load_from=ce_ckpt))
    if kind == 'stage2':
        runner.train()
    return lvis_metrics(runner.test())


# sampler -> method -> seed -> the run's metrics
Results = Dict[str, Dict[str, Dict[int, Dict[str, float]]]]


def summarise(results: Results) -> str:
    """The markdown table: mean +- std over each row's seeds, and the box APr change against the baseline with the
    same sampler, over the seeds both have."""
    lines = ['LT-Shapes val, LVIS metrics (AP x 100), mean +- std over the seeds (one seed: its value)', '',
             '| method | sampler | seeds | box AP | box APr | box APc | box APf | mask AP | mask APr | mask APc '
             '| mask APf | box APr vs baseline |', '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for sampler, by_method in results.items():
        for name, runs in by_method.items():
            if not runs:
                continue
            cells = []
            for key in (f'{iou}_{k}' for iou in IOU_TYPES for k in KEYS):
                values = 100 * np.array([r[key] for r in runs.values() if key in r])
                cells.append('-' if not len(values) else f'{values[0]:.1f}' if len(values) == 1
                             else f'{values.mean():.1f} +- {values.std():.1f}')
            baseline = METHODS[name][3]
            shared = sorted(set(runs) & set(by_method.get(baseline, {})))
            delta = ''
            if shared:
                change = np.mean([runs[s]['bbox_APr'] - by_method[baseline][s]['bbox_APr'] for s in shared])
                delta = f'{100 * change:+.1f} ({METHODS[baseline][0]})'
            seeds = ' '.join(map(str, sorted(runs)))
            lines.append(f'| {METHODS[name][0]} | {sampler} | {seeds} | ' + ' | '.join(cells) + f' | {delta} |')
    return '\n'.join(lines)


def mean_per_class(work_dirs: List[str]) -> Dict[str, Any]:
    """The per-class box AP record of several runs (one per seed), its values averaged over the runs."""
    records = [load_per_class(find_record(d, 'bbox')) for d in work_dirs]
    mean = dict(records[0])
    mean['value'] = np.mean([r['value'] for r in records], axis=0).tolist()
    return mean


def plot_best_vs_ce(results: Results, out: str) -> str:
    """Per-class box AP of the long-tail (method, sampler) of the Mask R-CNN with the best mean box AP next to its CE
    baseline (softmax or sigmoid CE) with the same sampler, over the seeds both have whose work dirs hold the per-class
    records. The baselines are not candidates, nor is EFL (a RetinaNet, whose baseline is the focal loss)."""
    def seeds_with_records(sampler: str, name: str) -> List[int]:
        return [s for s in results[sampler].get(name, {})
                if find_record(osp.join(out, sampler, f'seed{s}', name), 'bbox') is not None]

    candidates = []
    for sampler, by_method in results.items():
        for name, runs in by_method.items():
            base = METHODS[name][3]
            if base in ('ce', 'sigmoid-ce'):
                seeds = sorted(set(seeds_with_records(sampler, name)) & set(seeds_with_records(sampler, base)))
                if seeds:
                    candidates.append((np.mean([runs[s]['bbox_AP'] for s in seeds]), sampler, name, base, seeds))
    if not candidates:
        return ''
    _, sampler, best, base, seeds = max(candidates)
    panels = []
    for name in (base, best):
        record = mean_per_class([osp.join(out, sampler, f'seed{s}', name) for s in seeds])
        ap = 100 * np.mean([results[sampler][name][s]['bbox_AP'] for s in seeds])
        panels.append(dict(values=record['value'], train_counts=record['train_count'], groups=record['group'],
                           title=f'{METHODS[name][0]} ({sampler}), box AP {ap:.1f}, mean of seeds {seeds}'))
    return plot_per_class_panels(panels, osp.join(out, 'per_class_best_vs_ce.png'), record['metric'],
                                 record.get('group_order', ()))


def prepare_data() -> None:
    """LT-Shapes and the fractal dimensions of its training boxes (FRACAL), generated once under the cwd."""
    if not osp.isfile(osp.join(ANN_DIR, 'lt_shapes_train.json')):
        make_lt_shapes(osp.join('data', 'lt_shapes'))
    fractal = osp.join(ANN_DIR, 'lt_shapes_train_fractal_dim.json')
    if not osp.isfile(fractal):
        compute_fractal_dimensions(osp.join(ANN_DIR, 'lt_shapes_train.json')).save(fractal)


def load_record(path: str) -> Dict[str, Any]:
    """The record of every run so far: {'rfs_threshold', 'max_epochs', 'runs': {'<sampler>/seed<S>/<method>':
    {'metrics', 'commit', 'date', 'seconds'}}}; a record of another benchmark setting is refused."""
    if not osp.isfile(path):
        return {'rfs_threshold': RFS_THRESHOLD, 'max_epochs': MAX_EPOCHS, 'runs': {}}
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    setting = (record.get('rfs_threshold'), record.get('max_epochs'))
    if setting != (RFS_THRESHOLD, MAX_EPOCHS):
        raise ValueError(f'{path} records runs with rfs_threshold, max_epochs = {setting}, this benchmark uses '
                         f'{(RFS_THRESHOLD, MAX_EPOCHS)}: pass another --record')
    return record


def save_record(record: Dict[str, Any], path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    record['runs'] = dict(sorted(record['runs'].items()))
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    os.replace(path + '.tmp', path)


def commit_of(repo: str) -> Optional[str]:
    """The checked-out commit of the repository the benchmark runs from (None outside git)."""
    try:
        return subprocess.run(['git', '-C', repo, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    args = parse_args()
    # the CE runs come before the stage-2 and post-hoc methods that start from them
    methods = [n for n in METHODS if n in args.methods or (n == 'ce' and any(
        METHODS[m][2] != 'train' for m in args.methods))]
    out, record_path = osp.abspath(args.work_dir), osp.abspath(args.record)
    record = load_record(record_path)
    os.makedirs(out, exist_ok=True)
    os.chdir(out)  # the configs' relative data_root (data/lt_shapes/) resolves here
    results: Results = {s: {n: {} for n in methods} for s in args.samplers}
    start = time.time()
    total = len(methods) * len(args.seeds) * len(args.samplers)
    if not args.report:
        prepare_data()
    with tqdm(total=total, desc='LT-Shapes detection benchmark', unit='run', disable=args.report) as bar:
        for seed in args.seeds:  # every method and sampler of a seed before the next seed
            for sampler in args.samplers:
                for name in methods:
                    bar.set_postfix_str(f'{sampler} seed {seed} {name}')
                    key = f'{sampler}/seed{seed}/{name}'
                    work_dir = osp.join(out, sampler, f'seed{seed}', name)
                    cached = osp.join(work_dir, 'metrics.json')
                    if key in record['runs'] and not args.rerun:
                        metrics = record['runs'][key]['metrics']
                    elif osp.isfile(cached) and not args.rerun:  # a run of a version without the record
                        with open(cached, encoding='utf-8') as f:
                            metrics = json.load(f)
                        date = datetime.date.fromtimestamp(os.path.getmtime(cached)).isoformat()
                        record['runs'][key] = dict(metrics=metrics, commit=None, date=date, seconds=None)
                    elif args.report:
                        continue
                    else:
                        ce_dir = osp.join(out, sampler, f'seed{seed}', 'ce')
                        ce_ckpt = osp.join(ce_dir, f'epoch_{MAX_EPOCHS}.pth')
                        if METHODS[name][2] != 'train' and not osp.isfile(ce_ckpt):
                            tqdm.write(f'{key}: the CE checkpoint is gone, training CE of seed {seed} again')
                            run_method('ce', seed, sampler, ce_dir, ce_ckpt)
                        began = time.time()
                        metrics = run_method(name, seed, sampler, work_dir, ce_ckpt)
                        with open(cached, 'w', encoding='utf-8') as f:
                            json.dump(metrics, f)
                        record['runs'][key] = dict(metrics=metrics, commit=commit_of(REPO),
                                                   date=datetime.date.today().isoformat(),
                                                   seconds=round(time.time() - began))
                        save_record(record, record_path)
                    results[sampler][name][seed] = metrics
                    bar.update()
                    if not args.report:
                        tqdm.write(f'{sampler} seed {seed} {name:>12}: ' + '  '.join(
                            f'{k} {100 * v:5.1f}' for k, v in metrics.items() if k.endswith(('AP', 'APr'))))
    save_record(record, record_path)  # with the runs found in work dirs
    for sampler in results:
        for name in set(methods) - set(args.methods):
            results[sampler].pop(name)
    table = summarise(results)
    print(f'\n{table}\n\n({time.time() - start:.0f} s)')
    with open(osp.join(out, 'results.json'), 'w', encoding='utf-8') as f:
        json.dump({'rfs_threshold': RFS_THRESHOLD, 'results': results}, f, indent=1)
    with open(osp.join(out, 'results.md'), 'w', encoding='utf-8') as f:
        f.write(table + '\n')
    plot = plot_best_vs_ce(results, out)
    print(f'written {osp.join(out, "results.md")}, results.json' + (f' and {plot}' if plot else ''))


if __name__ == '__main__':
    main()
