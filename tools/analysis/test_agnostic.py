"""Test-agnostic long-tailed evaluation (SADE, Zhang et al., NeurIPS 2022; the protocol of LADE, Hong et al.,
CVPR 2021): accuracy of one model on forward-long-tailed, uniform and backward-long-tailed test distributions.

    python tools/analysis/test_agnostic.py CONFIG CHECKPOINT [--ratios 2 5 10 25 50] [--splits forward50 ...]
        [--aggregate] [--target-prior] [--split-files PATTERN] [--out-dir DIR] [--seed 0] [--device cuda]
        [--cfg-options k=v ...]

Each split (forward50 ... forward2, uniform, backward2 ... backward50 for the ratios given) is drawn from the
config's balanced test set by ``TestAgnosticDataset`` (classes ranked by the training counts of the test
evaluator's ``ShotAccuracy``; ``ltmm/cls/datasets/agnostic_lt.py``), or read from ``--split-files`` (a pattern
with ``{split}``, e.g. the official ``data/imagenet/ImageNet_LT/ImageNet_LT_{split}.txt``). iNaturalist 2018 has
3 test images per class: use ``--ratios 2 3`` as the official code.

- ``--aggregate`` (SADE configs): on each split, first learn the expert weights on its unlabelled images
  (``test_time_aggregation`` of the config: two ``MultiView`` views, SGD, early stop), write them to
  ``OUT_DIR/weights/<split>.json`` and evaluate with ``model.head.fusion.weights`` set to that file, as
  ``tools/test.py`` would; without it the experts are combined as the config says (the mean for SADE).
- ``--target-prior`` (LADE, PC Softmax: ``LogitAdjustedClsHead``): the test class distribution is known, so each
  split's class frequencies become ``model.head.target_prior`` (a class absent from the split gets the mass 1e-9
  of the whole split, LADE's and SADE's prior epsilon, instead of a refused zero). BalPoE configs (``BalPoELoss``):
  each split's class counts become ``model.head.loss.test_prior``, the official ``test_all_*.py
  --posthoc_bias_correction`` (``log`` of the split's prior added to the experts' mean; an absent class gets
  ``-inf``, as the official).

Per split: ``All`` is the top-1 accuracy over the split's images (the official test-agnostic "All", which weighs
classes by their test frequency), ``Many`` / ``Medium`` / ``Few`` the mean per-class accuracy of each training-count
group (> 100, 20..100, < 20 images), over the classes present in the split; ``mean per-class`` is the mean over all
of them (= All on the uniform split). The table is printed and written to ``OUT_DIR/test_agnostic.md`` and
``OUT_DIR/test_agnostic.json``.
"""
import argparse
import copy
import inspect
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from tqdm import tqdm

from ltmm.cls.datasets.agnostic_lt import DEFAULT_RATIOS, agnostic_dataset_cfg, parse_split_name, split_names
from ltmm.cls.heads.multi_expert_cls_head import save_expert_weights
from ltmm.cls.metrics.shot_accuracy import ShotAccuracy, shot_accuracy_cfg
from ltmm.engine import add_common_args, build_classifier, load_config
from ltmm.engine.sade_aggregation import aggregate, aggregation_record, aggregation_settings

ABSENT_CLASS_MASS = 1e-9  # the prior epsilon of LADE's PriorCELoss and SADE's log(prior + 1e-9)
COLUMNS = (('top1', 'All'), ('many', 'Many'), ('medium', 'Medium'), ('few', 'Few'), ('all', 'mean per-class'))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--ratios', type=int, nargs='+', default=list(DEFAULT_RATIOS),
                        help='imbalance ratios of the forward / backward splits (default: 2 5 10 25 50)')
    parser.add_argument('--splits', nargs='+', help='only these splits (e.g. uniform forward50); default: all')
    parser.add_argument('--aggregate', action='store_true',
                        help="SADE: learn the expert weights on each split's unlabelled images first")
    parser.add_argument('--target-prior', action='store_true',
                        help="LADE / PC Softmax: set model.head.target_prior (BalPoE: model.head.loss.test_prior) to "
                             "each split's class distribution")
    parser.add_argument('--split-files', help='read each split from this annotation file pattern with {split}')
    parser.add_argument('--out-dir', help='default: work_dirs/test_agnostic/<config name>')
    parser.add_argument('--seed', type=int, default=0, help='seed of the aggregation views (default: 0)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return add_common_args(parser).parse_args()


def head_accepts(cfg: Config, argument: str) -> bool:
    from mmpretrain.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    head_type = cfg.model.head.get('type')
    cls = MODELS.get(head_type) if isinstance(head_type, str) else head_type
    return cls is not None and argument in inspect.signature(cls).parameters


def loss_accepts(cfg: Config, argument: str) -> bool:
    """Whether the config's head loss takes ``argument`` (e.g. BalPoELoss's ``test_prior``)."""
    from mmpretrain.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    loss = cfg.model.head.get('loss')
    loss_type = loss.get('type') if isinstance(loss, dict) else None
    cls = MODELS.get(loss_type) if isinstance(loss_type, str) else loss_type
    return cls is not None and argument in inspect.signature(cls).parameters


def split_target_prior(counts: Sequence[int]) -> List[float]:
    """A split's class frequencies, an absent class at :data:`ABSENT_CLASS_MASS`."""
    prior = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    return np.where(prior > 0, prior, ABSENT_CLASS_MASS).tolist()


@torch.no_grad()
def evaluate_split(model: torch.nn.Module, loader, metric: ShotAccuracy, desc: str) -> Dict[str, float]:
    """``metric`` (many / medium / few / all / top1) of ``model``'s predictions on ``loader``."""
    metric.results.clear()
    for data in tqdm(loader, desc=desc, unit='batch', leave=False):
        metric.process(data, [sample.to_dict() for sample in model.test_step(data)])
    return metric.compute_metrics(metric.results)


def test_agnostic(cfg: Config, checkpoint: str, splits: Sequence[str], aggregate_weights: bool = False,
                  target_prior: bool = False, split_files: Optional[str] = None, out_dir: str = '.',
                  seed: int = 0, device: str = 'cpu') -> Dict[str, dict]:
    """Evaluate ``checkpoint`` on each split (see the module docstring); returns ``split -> record``."""
    shot = shot_accuracy_cfg(cfg.get('test_evaluator'))
    if shot is None or 'class_stats' not in shot:
        raise ValueError(f'{cfg.filename}: the test evaluator needs a ShotAccuracy with class_stats (the training '
                         'counts rank the classes and group them into many / medium / few)')
    head_prior = target_prior and head_accepts(cfg, 'target_prior')
    if target_prior and not head_prior and not loss_accepts(cfg, 'test_prior'):
        raise ValueError(f'--target-prior needs a head with a target_prior argument (LogitAdjustedClsHead, the LADE '
                         f'configs) or a loss with a test_prior argument (BalPoELoss), got '
                         f'{cfg.model.head.get("type")} with {cfg.model.head.get("loss", {}).get("type")}')
    if aggregate_weights:
        aggregation_settings(cfg)
        if not head_accepts(cfg, 'fusion'):
            raise ValueError(f'--aggregate needs a multi-expert head with a fusion argument (MultiExpertClsHead, the '
                             f'SADE configs), got {cfg.model.head.get("type")}')
    metric = ShotAccuracy(shot['class_stats'], many_thr=shot.get('many_thr', 100), few_thr=shot.get('few_thr', 20),
                          plot_dir='')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    neutral = build_classifier(cfg, checkpoint, device) if aggregate_weights else None
    records = {}
    for split in splits:
        distribution, ratio = parse_split_name(split)
        dataset = agnostic_dataset_cfg(cfg.test_dataloader.dataset, split, shot['class_stats'],
                                       split_file=split_files)
        loader_cfg = dict(copy.deepcopy(cfg.test_dataloader), dataset=dataset, persistent_workers=False)
        loader = Runner.build_dataloader(loader_cfg)
        labels = np.asarray(loader.dataset.get_gt_labels(), dtype=np.int64)
        counts = np.bincount(labels, minlength=metric.stats.num_classes)
        record = dict(split=split, distribution=distribution, imbalance_ratio=ratio, num_images=int(len(labels)),
                      class_counts=counts.tolist())
        head = {}
        if head_prior:
            head['target_prior'] = split_target_prior(counts)
        elif target_prior:
            head['loss'] = dict(cfg.model.head.loss, test_prior=counts.tolist())
        if aggregate_weights:
            result = aggregate(cfg, checkpoint, dataset, device, seed, model=neutral, desc=split)
            weights_file = save_expert_weights(
                osp.join(out_dir, 'weights', f'{split}.json'), result.weights,
                **aggregation_record(result, config=cfg.filename, checkpoint=checkpoint, split=split, seed=seed))
            head['fusion'] = dict(type='weighted', weights=weights_file)
            record.update(expert_weights=result.weights, weights_file=weights_file, epochs_run=result.epochs_run,
                          stopped_early=result.stopped_early)
        model = build_classifier(cfg, checkpoint, device, head)
        record['metrics'] = evaluate_split(model, loader, metric, split)
        records[split] = record
        print(f'{split}: ' + ', '.join(f'{name} {record["metrics"][key]:.2f}' for key, name in COLUMNS))
    return records


def _cell(value: float) -> str:
    return '—' if value < 0 else f'{value:.2f}'


def markdown(records: Dict[str, dict], title: str) -> str:
    """The per-split table and a one-row summary in the paper's layout (All per split)."""
    weights = any('expert_weights' in r for r in records.values())
    head = ['split', 'images'] + [name for _, name in COLUMNS] + (['expert weights'] if weights else [])
    lines = [f'### {title}', '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for split, r in records.items():
        row = [split, str(r['num_images'])] + [_cell(r['metrics'][key]) for key, _ in COLUMNS]
        if weights:
            row.append(', '.join(f'{w:.2f}' for w in r.get('expert_weights', [])))
        lines.append('| ' + ' | '.join(row) + ' |')
    lines += ['', 'All (top-1, %) per test distribution:', '',
              '| ' + ' | '.join(['model', *records]) + ' |', '|' + '---|' * (len(records) + 1),
              '| ' + ' | '.join([title, *(_cell(r['metrics']['top1']) for r in records.values())]) + ' |', '']
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args)
    splits = args.splits or split_names(args.ratios)
    for split in splits:
        parse_split_name(split)
    out_dir = args.out_dir or osp.join('work_dirs', 'test_agnostic', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    records = test_agnostic(cfg, args.checkpoint, splits, args.aggregate, args.target_prior, args.split_files,
                            out_dir, args.seed, args.device)
    mode = ' + test-time aggregation' if args.aggregate else ' + known target prior' if args.target_prior else ''
    table = markdown(records, osp.splitext(osp.basename(args.config))[0] + mode)
    print(table)
    with open(osp.join(out_dir, 'test_agnostic.md'), 'w', encoding='utf-8') as f:
        f.write(table)
    with open(osp.join(out_dir, 'test_agnostic.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, aggregate=args.aggregate,
                       target_prior=args.target_prior, split_files=args.split_files, splits=records), f, indent=2)
    print(f'written {osp.join(out_dir, "test_agnostic.md")} and {osp.join(out_dir, "test_agnostic.json")}')


if __name__ == '__main__':
    main()
