"""The data and model side of SADE's test-time self-supervised aggregation (Zhang et al., NeurIPS 2022): two augmented
views of each unlabelled test image, the expert logits of both, and the loop of
:func:`ltmm.cls.losses.sade_loss.learn_expert_weights` over them. Used by ``tools/sade_aggregate.py`` and
``tools/analysis/test_agnostic.py``.

A config that supports the aggregation has a ``test_time_aggregation`` entry (the official
``configs/test_time_*_sade.json`` and the two-view transform of ``test_training_*.py``)::

    test_time_aggregation = dict(
        pipeline=[...,  # loading, as the test pipeline
                  dict(type='MultiView', num_views=2, transforms=[view_pipeline]),  # mmpretrain's two views
                  dict(type='PackInputs')],
        batch_size=128, num_workers=4, epochs=5, min_weight=0.05,
        optimizer=dict(type='SGD', lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4))

The views are normalised by mmpretrain's ``SelfSupDataPreprocessor`` (which takes the list of stacked views that
``MultiView`` + ``default_collate`` produce) with the mean, std and channel order of the model's own preprocessor,
so each view is preprocessed exactly as a test image. The model runs in ``eval()`` mode without gradient (as the
official ``model.eval()``; only the expert weights learn).
"""
import copy
from typing import Dict, Iterator, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed
from tqdm import tqdm

from ..cls.losses.sade_loss import AggregationResult, learn_expert_weights
from .launch import build_classifier, model_config

AGGREGATION_KEYS = ('pipeline', 'batch_size', 'num_workers', 'epochs', 'min_weight', 'optimizer')


def aggregation_settings(cfg: Config) -> dict:
    """``cfg.test_time_aggregation`` checked: a pipeline, the optimiser and the loop's settings.

    Raises:
        KeyError: the config has none (only SADE configs define it).
        ValueError: unknown or missing keys.
    """
    settings = cfg.get('test_time_aggregation')
    if settings is None:
        raise KeyError(f'{cfg.filename}: no test_time_aggregation in the config (SADE configs, configs/sade/, define '
                       'the two-view pipeline and the optimiser of the test-time aggregation)')
    settings = dict(dict(num_workers=2, epochs=5, min_weight=0.05), **settings)
    unknown = set(settings) - set(AGGREGATION_KEYS)
    missing = {'pipeline', 'batch_size', 'optimizer'} - set(settings)
    if unknown or missing:
        raise ValueError(f'{cfg.filename}: test_time_aggregation takes {AGGREGATION_KEYS}; unknown {sorted(unknown)}, '
                         f'missing {sorted(missing)}')
    return settings


def view_preprocessor(cfg: Config, device: str = 'cpu') -> torch.nn.Module:
    """mmpretrain's ``SelfSupDataPreprocessor`` with the mean, std and channel conversion of the model's
    preprocessor."""
    from mmpretrain.registry import MODELS

    source = model_config(cfg).get('data_preprocessor') or {}
    preprocessor = dict(type='SelfSupDataPreprocessor', mean=source.get('mean'), std=source.get('std'),
                        to_rgb=source.get('to_rgb', False) or source.get('bgr_to_rgb', False))
    return MODELS.build(preprocessor).to(device)


def with_pipeline(dataset: dict, pipeline: list) -> dict:
    """A copy of a dataset config reading through ``pipeline`` (that of the wrapped dataset of a
    ``TestAgnosticDataset``)."""
    dataset = copy.deepcopy(dataset)
    inner = dataset['dataset'] if dataset.get('type') == 'TestAgnosticDataset' else dataset
    inner['pipeline'] = copy.deepcopy(pipeline)
    return dataset


def two_view_dataloader(cfg: Config, dataset: dict, seed: int = 0) -> torch.utils.data.DataLoader:
    """The shuffled loader of two augmented views of each image of ``dataset`` (a test dataset config), with the
    batch size and workers of ``cfg.test_time_aggregation`` (the official ``shuffle=True``, batch 128)."""
    settings = aggregation_settings(cfg)
    loader = dict(batch_size=settings['batch_size'], num_workers=settings['num_workers'],
                  persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=True),
                  collate_fn=dict(type='default_collate'), dataset=with_pipeline(dataset, settings['pipeline']))
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return Runner.build_dataloader(loader, seed=seed)


def expert_view_pairs(model: torch.nn.Module, loader: torch.utils.data.DataLoader, preprocessor: torch.nn.Module,
                      desc: str = 'aggregation') -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
    """For each batch of ``loader``: the (N, K, C) expert logits of its two views (no gradient)."""
    head = getattr(model, 'head', None)
    if not hasattr(head, 'forward_experts'):
        raise TypeError(f'SADE aggregation needs a multi-expert head (MultiExpertClsHead), got {type(head).__name__}')
    for data in tqdm(loader, desc=desc, unit='batch', leave=False):
        with torch.no_grad():  # not around the yield: the consumer's objective needs gradients
            views = preprocessor(data, False)['inputs']
            if not isinstance(views, (list, tuple)) or len(views) != 2:
                raise ValueError('test_time_aggregation.pipeline must give two views of each image (mmpretrain '
                                 "MultiView(num_views=2, ...) before PackInputs)")
            logits = tuple(head.forward_experts(model.extract_feat(view)) for view in views)
        yield logits


def aggregate(cfg: Config, checkpoint: str, dataset: dict, device: str = 'cpu', seed: int = 0,
              model: Optional[torch.nn.Module] = None, desc: str = 'aggregation') -> AggregationResult:
    """SADE's test-time aggregation of the model of ``cfg`` / ``checkpoint`` on the unlabelled images of
    ``dataset`` (a test dataset config): the settings of ``cfg.test_time_aggregation``, the augmentation and the
    shuffling seeded by ``seed``. ``model``: an already built one (``build_classifier``) to reuse."""
    settings = aggregation_settings(cfg)
    if model is None:
        model = build_classifier(cfg, checkpoint, device)
    head = model.head
    if getattr(head, 'router', None) is not None or getattr(head, 'fusion', None) is not None:
        raise ValueError('SADE aggregation weighs the experts of a head without a router or evidential fusion')
    set_random_seed(seed)
    loader = two_view_dataloader(cfg, dataset, seed)
    preprocessor = view_preprocessor(cfg, device)
    epoch = iter(range(settings['epochs']))

    def pairs() -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        current = next(epoch)
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(current)  # a new shuffle every epoch, as torch's DataLoader(shuffle=True)
        return expert_view_pairs(model, loader, preprocessor, f'{desc} epoch {current + 1}')

    return learn_expert_weights(pairs, head.num_experts, settings['epochs'], dict(settings['optimizer']),
                                settings['min_weight'])


def aggregation_record(result: AggregationResult, **info) -> Dict:
    """What the weights file records next to the weights (see ``save_expert_weights``)."""
    return dict(info, epochs_run=result.epochs_run, stopped_early=result.stopped_early,
                epoch_losses=result.epoch_losses, epoch_weights=result.epoch_weights)
