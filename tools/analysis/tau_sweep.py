"""Choose tau of tau-normalisation (Kang et al., ICLR 2020) on the validation split.

    python tools/analysis/tau_sweep.py CONFIG CHECKPOINT [--split val|test] [--taus 0 2 21]
        [--out-dir DIR] [--write-config OUT.py] [--cfg-options k=v ...]

The model of CONFIG (whose head has a linear classifier ``fc``: ``LinearClsHead`` or ``TauNormClsHead``) is loaded
from CHECKPOINT; the features of the split are extracted once, then every tau of ``linspace(START, STOP, NUM)``
(default 0..2 in 21 steps, as classifier-balancing's ``tau_norm.py``) is scored with the tau-normalised classifier
(bias dropped) by the split's ``ShotAccuracy`` (many / medium / few / all = mean per-class accuracy). The table is
printed and written to ``OUT_DIR/tau_sweep.csv`` with a plot ``OUT_DIR/tau_sweep.png``; the best tau (highest
``all``, the smallest tau on ties) is printed as a ``--cfg-options`` line and, with ``--write-config``, written into
a config that inherits CONFIG with ``TauNormClsHead(tau=best)``.
"""
import argparse
import csv
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tqdm import tqdm

from ltmm.cls.heads.tau_norm_cls_head import tau_norm_logits
from ltmm.cls.metrics.shot_accuracy import ShotAccuracy
from ltmm.core.splits import GROUPS
from ltmm.engine import add_common_args, build_classifier, load_config

KEYS = GROUPS['shot'][::-1] + ('all',)
DEFAULT_TAUS = tuple(np.round(np.linspace(0.0, 2.0, 21), 6))  # classifier-balancing's grid


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file (stage-1 or tau-norm config)')
    parser.add_argument('checkpoint', help='stage-1 checkpoint')
    parser.add_argument('--split', choices=['val', 'test'], default='val',
                        help='split (dataloader + evaluator of the config) tau is chosen on (default: val)')
    parser.add_argument('--taus', nargs=3, type=float, default=[0.0, 2.0, 21], metavar=('START', 'STOP', 'NUM'),
                        help='tau grid, numpy.linspace(START, STOP, NUM) (default: 0 2 21)')
    parser.add_argument('--out-dir', help='where tau_sweep.csv / .png go (default: work_dirs/tau_sweep/<config>)')
    parser.add_argument('--write-config', metavar='OUT.py',
                        help='write a config inheriting CONFIG with TauNormClsHead(tau=best)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return add_common_args(parser).parse_args()


@torch.no_grad()
def extract_features(model: torch.nn.Module, dataloader) -> Dict[str, torch.Tensor]:
    """Pre-logit features (N, D) and labels (N,) of every sample of ``dataloader`` (an mmpretrain classifier:
    its data preprocessor moves the batch to the model's device)."""
    feats: List[torch.Tensor] = []
    labels: List[torch.Tensor] = []
    for data in tqdm(dataloader, desc='features', unit='batch'):
        data = model.data_preprocessor(data, False)
        feats.append(model.head.pre_logits(model.extract_feat(data['inputs'])).float().cpu())
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).cpu())
    return {'feats': torch.cat(feats), 'labels': torch.cat(labels)}


def sweep(feats: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, taus: Sequence[float],
          metric: ShotAccuracy) -> List[Dict[str, float]]:
    """Shot accuracies of the tau-normalised classifier ``weight`` (C, D) for every tau: one row per tau with the
    keys ``tau``, ``many``, ``medium``, ``few``, ``all``."""
    rows = []
    for tau in taus:
        preds = tau_norm_logits(feats, weight.float(), float(tau)).argmax(dim=1)
        scores = metric.compute_metrics(list(zip(preds.tolist(), labels.tolist())))
        rows.append({'tau': float(tau), **{k: scores[k] for k in KEYS}})
    return rows


def best_tau(rows: Sequence[Dict[str, float]]) -> float:
    """The tau of the highest ``all`` (mean per-class accuracy); the smallest such tau on ties."""
    return max(rows, key=lambda r: (r['all'], -r['tau']))['tau']


def plot(rows: Sequence[Dict[str, float]], out_file: str, best: float, split: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    taus = [r['tau'] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for key in KEYS:
        ax.plot(taus, [r[key] for r in rows], marker='o', markersize=3, label=key, lw=2 if key == 'all' else 1)
    ax.axvline(best, color='grey', ls='--', lw=1, label=f'best tau = {best:g}')
    ax.set_xlabel('tau')
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_title(f'tau-normalisation sweep ({split} split)')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)


def write_config(out_file: str, config: str, tau: float) -> None:
    base = osp.relpath(osp.abspath(config), osp.dirname(osp.abspath(out_file)))
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write(f'# {osp.basename(config)} with the tau chosen by tools/analysis/tau_sweep.py\n'
                f'_base_ = {base!r}\n'
                f"model = dict(head=dict(type='TauNormClsHead', tau={tau!r}))\n")


def sweep_checkpoint(cfg: Config, checkpoint: str, split: str = 'val', taus: Sequence[float] = DEFAULT_TAUS,
                     device: str = 'cpu') -> List[Dict[str, float]]:
    """Build ``cfg.model``, load ``checkpoint``, extract the features of ``cfg.<split>_dataloader`` once and score
    every tau with ``cfg.<split>_evaluator`` (a ``ShotAccuracy``); see :func:`sweep`."""
    loader_cfg, evaluator_cfg = cfg.get(f'{split}_dataloader'), cfg.get(f'{split}_evaluator')
    if loader_cfg is None or evaluator_cfg is None:
        raise ValueError(f'{cfg.filename}: no {split}_dataloader / {split}_evaluator')
    if evaluator_cfg.get('type') != 'ShotAccuracy' or 'class_stats' not in evaluator_cfg:
        raise ValueError(f'{cfg.filename}: {split}_evaluator must be a ShotAccuracy with class_stats, got '
                         f'{evaluator_cfg}')
    model = build_classifier(cfg, checkpoint, device)
    fc = getattr(model.head, 'fc', None)
    if not isinstance(fc, torch.nn.Linear):
        raise TypeError(f'tau_sweep needs a head with a linear classifier `fc` (LinearClsHead / TauNormClsHead), '
                        f'got {type(model.head).__name__}')
    data = extract_features(model, Runner.build_dataloader(loader_cfg))
    metric = ShotAccuracy(evaluator_cfg['class_stats'], many_thr=evaluator_cfg.get('many_thr', 100),
                          few_thr=evaluator_cfg.get('few_thr', 20), plot_dir='')
    return sweep(data['feats'], data['labels'], fc.weight.detach().cpu(), taus, metric)


def main() -> None:
    args = parse_args()
    start, stop, num = args.taus
    if num < 1 or num != int(num):
        raise ValueError(f'--taus NUM must be a positive integer, got {num}')
    taus = np.round(np.linspace(start, stop, int(num)), 6)
    if (taus < 0).any():
        raise ValueError(f'tau must be >= 0, got the grid {taus.tolist()}')
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args)
    if args.split == 'val' and cfg.get('val_dataloader', {}).get('dataset') == \
            cfg.get('test_dataloader', {}).get('dataset'):
        print('warning: the val and test dataloaders read the same data: tau is chosen on the test split')
    rows = sweep_checkpoint(cfg, args.checkpoint, args.split, taus, args.device)
    best = best_tau(rows)

    out_dir = args.out_dir or osp.join('work_dirs', 'tau_sweep', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    print(f'tau-normalisation on the {args.split} split, top-1 accuracy (%)')
    print(f'{"tau":>6} ' + ' '.join(f'{k:>7}' for k in KEYS))
    for r in rows:
        print(f'{r["tau"]:6.2f} ' + ' '.join(f'{r[k]:7.2f}' for k in KEYS) + ('  <- best' if r['tau'] == best else ''))
    with open(osp.join(out_dir, 'tau_sweep.csv'), 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=['tau', *KEYS])
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, osp.join(out_dir, 'tau_sweep.png'), best, args.split)
    print(f'written {osp.join(out_dir, "tau_sweep.csv")} and {osp.join(out_dir, "tau_sweep.png")}')
    print(f'best tau = {best:g}: --cfg-options model.head.type=TauNormClsHead model.head.tau={best:g}')
    if args.write_config:
        write_config(args.write_config, args.config, best)
        print(f'written {args.write_config}')


if __name__ == '__main__':
    main()
