"""SADE's test-time self-supervised aggregation (Zhang et al., NeurIPS 2022): learn the expert weights of a trained
SADE model on unlabelled test images and write them for ``tools/test.py``.

    python tools/sade_aggregate.py CONFIG CHECKPOINT [--split forward50|uniform|backward10|...]
        [--split-file PATTERN] [--out WEIGHTS.json] [--seed 0] [--device cuda] [--cfg-options k=v ...]

The images are those of the config's test dataloader (its labels are not read), or of one test-agnostic split of it
(``--split``; ``--split-file`` reads the split from an annotation file instead, e.g. the official
``ImageNet_LT_{split}.txt``). Each image gives two views by the config's ``test_time_aggregation.pipeline``
(mmpretrain ``MultiView``); the weights maximise the cosine similarity of the two views' aggregated predictions,
with the config's optimiser, batch, epochs and early stop (``ltmm.cls.losses.sade_loss.learn_expert_weights``).
The JSON file holds ``weights`` and how they were learned; test with

    python tools/test.py CONFIG CHECKPOINT --cfg-options model.head.fusion.weights=WEIGHTS.json
"""
import argparse
import os
import os.path as osp

import torch

from ltmm.cls.datasets.agnostic_lt import agnostic_dataset_cfg
from ltmm.cls.heads.multi_expert_cls_head import save_expert_weights
from ltmm.cls.metrics.shot_accuracy import shot_accuracy_cfg
from ltmm.engine import add_common_args, load_config
from ltmm.engine.sade_aggregation import aggregate, aggregation_record, aggregation_settings


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='SADE config (with test_time_aggregation)')
    parser.add_argument('checkpoint', help='trained SADE checkpoint')
    parser.add_argument('--split', help='a test-agnostic split of the test set (uniform, forward<r>, backward<r>); '
                        'default: the test set as the config reads it')
    parser.add_argument('--split-file', help='with --split: read the split from this annotation file pattern, '
                        'e.g. data/imagenet/ImageNet_LT/ImageNet_LT_{split}.txt')
    parser.add_argument('--out', help='weights file (default: work_dirs/sade_aggregate/<config>/<split>.json)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the views and the shuffling (default: 0)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return add_common_args(parser).parse_args()


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    if args.split_file and not args.split:
        raise ValueError('--split-file needs --split (which split the pattern is filled with)')
    cfg = load_config(args)
    settings = aggregation_settings(cfg)
    dataset = cfg.test_dataloader.dataset
    if args.split:
        shot = shot_accuracy_cfg(cfg.get('test_evaluator'))
        dataset = agnostic_dataset_cfg(dataset, args.split, shot and shot.get('class_stats'),
                                       split_file=args.split_file)
    name = args.split or 'test'
    out = args.out or osp.join('work_dirs', 'sade_aggregate', osp.splitext(osp.basename(args.config))[0],
                               f'{name}.json')
    result = aggregate(cfg, args.checkpoint, dataset, args.device, args.seed, desc=name)
    record = aggregation_record(result, config=args.config, checkpoint=args.checkpoint, split=name, seed=args.seed,
                                optimizer=dict(settings['optimizer']), epochs=settings['epochs'],
                                min_weight=settings['min_weight'], batch_size=settings['batch_size'])
    save_expert_weights(out, result.weights, **record)
    weights = ', '.join(f'{w:.4f}' for w in result.weights)
    print(f'expert weights ({name}): {weights} after {result.epochs_run} epoch(s)'
          f'{" (early stop)" if result.stopped_early else ""}')
    print(f'written {out}; test with: python tools/test.py {args.config} {args.checkpoint} '
          f'--cfg-options model.head.fusion.weights={os.path.abspath(out)}')


if __name__ == '__main__':
    main()
