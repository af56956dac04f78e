"""Every classification config under configs/ (found by glob, so new method folders are picked up; detection configs
are left out) loads, names only registered modules, builds its model, and runs one loss step (data preprocessor,
forward, loss, backward; the epoch modules told epoch 0 where the config has an epoch hook) and one predict step on
random images shaped and collated as the config's loaders give them (several views, pairs): every config family is
checked without any dataset on disk.

``class_stats`` entries, which point at training annotations that are not here, are replaced by synthetic long-tailed
counts of the config's ``num_classes``; TSC's target generation is cut to 10 steps (its 10,000 would take minutes on
the CPU for 1,000 classes).
"""
import functools
import re
import warnings
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config

import ltmm.cls  # noqa: F401  (registers ltmm's modules)
from ltmm.cls.hooks.loss_epoch_hook import epoch_modules
from ltmm.cls.losses.lfme_loss import lfme_subsets
from ltmm.cls.losses.sbcl_loss import SBCLLoss
from ltmm.core.long_tail import exponential_profile

from ..helpers import REPO


def _load(path: Path) -> Config:
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
        return Config.fromfile(str(path))


def _frameworks(path: Path, seen: Optional[set] = None) -> set:
    """Frameworks a config and its local bases name ('mmdet::' / 'mmpretrain::' bases, default_scope), read as text:
    loading the ~100 detection configs only to skip them would cost minutes."""
    seen = set() if seen is None else seen
    if path in seen or not path.is_file():
        return set()
    seen.add(path)
    text = path.read_text()
    found = set(re.findall(r"['\"](mmdet|mmpretrain)::", text))
    found |= set(re.findall(r"default_scope\s*=\s*['\"](\w+)['\"]", text))
    for base in re.findall(r"['\"]([\w./-]+\.py)['\"]", text):
        found |= _frameworks((path.parent / base).resolve(), seen)
    return found


ALL_CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
CONFIGS = [p for p in ALL_CONFIGS if _frameworks(p) != {'mmdet'}]  # classification, and anything ambiguous


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """One intra-op thread: these tiny batches only lose time to thread hand-offs on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _registries() -> dict:
    from mmpretrain import registry as r
    return {'dataset': r.DATASETS, 'datasets': r.DATASETS, 'sampler': r.DATA_SAMPLERS,
            'batch_sampler': r.DATA_SAMPLERS, 'pipeline': r.TRANSFORMS, 'transforms': r.TRANSFORMS,
            'val_evaluator': r.METRICS, 'test_evaluator': r.METRICS,
            'custom_hooks': r.HOOKS, 'default_hooks': r.HOOKS, 'param_scheduler': r.PARAM_SCHEDULERS,
            'optimizer': r.OPTIMIZERS, 'optim_wrapper': r.OPTIM_WRAPPERS, 'visualizer': r.VISUALIZERS,
            'vis_backends': r.VISBACKENDS}


def _typed_nodes(node: Any, key: str) -> Iterator[Tuple[str, str]]:
    """(registry key, type) of every ``type=`` entry under ``node``; a node's registry is named by its parent key
    (``dataset``, ``sampler``, ``pipeline``, ...); entries of ``default_hooks`` are hooks whatever their name."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield key, node['type']
        for k, v in node.items():
            yield from _typed_nodes(v, key if key == 'default_hooks' else k)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _typed_nodes(v, key)


def _synthetic_class_stats(num_classes: int) -> dict:
    counts = exponential_profile(300, num_classes, 100)  # 300 ... 3: many, medium and few-shot classes
    return dict(num_images=sum(counts), image_count=counts, instance_count=counts)


def _replace_class_stats(node: Any, stats: dict, found: List[Any]) -> Any:
    """``node`` with every ``class_stats`` value replaced by ``stats``; the replaced values go to ``found``."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == 'class_stats':
                found.append(v)
                out[k] = stats
            else:
                out[k] = _replace_class_stats(v, stats, found)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(_replace_class_stats(v, stats, found) for v in node)
    return node


def _batch(loader: dict, channels: int, labels: torch.Tensor, num_classes: int) -> dict:
    """A batch of random 32x32 images of ``labels`` as ``loader`` would give it: each sample with as many views as its
    pipeline's ``MultiView`` makes (one without), paired with a partner sample where the dataset is a
    ``PairedDataset``, collated with the loader's ``collate_fn`` (mmengine's default: ``pseudo_collate``)."""
    from mmengine.registry import FUNCTIONS
    from mmpretrain.structures import DataSample

    from ltmm.cls.datasets import PairedDataset

    dataset = loader['dataset']
    paired = dataset.get('type') == 'PairedDataset'
    while 'dataset' in dataset:  # dataset wrappers
        dataset = dataset['dataset']
    views = sum(sum(np.atleast_1d(t['num_views'])) for t in dataset.get('pipeline') or []
                if isinstance(t, dict) and t.get('type') == 'MultiView') or 1

    def sample(label: int) -> dict:
        images = [torch.randint(0, 256, (channels, 32, 32), dtype=torch.uint8) for _ in range(views)]
        return {'inputs': images if views > 1 else images[0], 'data_samples': DataSample().set_gt_label(label)}

    samples = [sample(int(y)) for y in labels]
    if paired:
        samples = [PairedDataset.pack(s, sample((int(y) + 1) % num_classes)) for s, y in zip(samples, labels)]
    collate = dict(loader.get('collate_fn') or dict(type='pseudo_collate'))
    return functools.partial(FUNCTIONS.get(collate.pop('type')), **collate)(samples)


@pytest.mark.slow
def test_configs_found():
    names = {p.relative_to(REPO / 'configs').as_posix() for p in CONFIGS}
    assert {'baseline/resnet50_8xb64_imagenet-lt_90e.py', 'baseline/resnet32_1xb128_cifar100-lt-if100_200e.py',
            'demo/lenet_digits-lt.py'} <= names
    assert 'demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py' not in names
    # a detection config is recognised by text only where loading it agrees
    for path in sorted(set(ALL_CONFIGS) - set(CONFIGS))[:3]:
        assert _load(path).get('default_scope') == 'mmdet', path


def _random_teacher(teacher: dict, num_classes: int, tmp_path: Path, name: str = 'teacher',
                    head_classes: Optional[int] = None) -> dict:
    """``teacher`` with its config file's model (synthetic class_stats; its head ``head_classes`` wide if given) and
    a checkpoint of random weights."""
    from mmpretrain.registry import MODELS

    assert (REPO / teacher['config']).is_file(), f"teacher config {teacher['config']} does not exist"
    teacher_model = _replace_class_stats(_load(REPO / teacher['config']).to_dict()['model'],
                                         _synthetic_class_stats(num_classes), [])
    if head_classes is not None:
        teacher_model['head']['num_classes'] = head_classes
    checkpoint = tmp_path / f'{name}.pth'
    torch.save({'state_dict': MODELS.build(teacher_model).state_dict()}, checkpoint)
    return dict(teacher, config=teacher_model, checkpoint=str(checkpoint))


@pytest.mark.slow
@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.relative_to(REPO / 'configs').as_posix())
def test_cls_config(path: Path, tmp_path: Path):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    cfg = _load(path)
    if cfg.get('default_scope') == 'mmdet':
        pytest.skip('detection config')
    assert cfg.get('default_scope') == 'mmpretrain', f'{path}: classification configs use default_scope=mmpretrain'
    imports = set(cfg.get('custom_imports', {}).get('imports', []))
    assert imports & {'ltmm.cls', 'ltmm.multilabel'}, f'{path}: custom_imports must import its task package'
    init_default_scope('mmpretrain')
    registries = _registries()
    plain = cfg.to_dict()
    for top in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
                'custom_hooks', 'default_hooks', 'param_scheduler', 'optim_wrapper'):
        for key, name in _typed_nodes(plain.get(top), top):
            if key in registries:
                assert registries[key].get(name) is not None, f'{path}: {top}: {key} type {name!r} is not registered'

    model_cfg = plain['model']
    num_classes = plain.get('num_classes', model_cfg.get('head', {}).get('num_classes'))
    assert isinstance(num_classes, int), f'{path}: no num_classes (top level or model.head)'
    if 'num_classes' in model_cfg.get('head', {}):
        assert model_cfg['head']['num_classes'] == num_classes, f'{path}: head.num_classes != num_classes'
    found: List[Any] = []
    model_cfg = _replace_class_stats(model_cfg, _synthetic_class_stats(num_classes), found)
    if isinstance(model_cfg.get('contrast_loss'), dict) and model_cfg['contrast_loss'].get('type') == 'TSCLoss':
        model_cfg['contrast_loss']['target_steps'] = 10  # TSC's target generation: 10,000 Adam steps of C x d
    if 'class_stats' in plain:
        assert all(v == plain['class_stats'] for v in found), f'{path}: a class_stats differs from the dataset\'s'
        for evaluator in ('val_evaluator', 'test_evaluator'):
            ev = plain.get(evaluator)
            for metric in ev if isinstance(ev, list) else [ev]:
                if isinstance(metric, dict) and 'class_stats' in metric:
                    assert metric['class_stats'] == plain['class_stats'], f'{path}: {evaluator} class_stats'
    if plain.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', plain['data_preprocessor'])
    channels = len((model_cfg.get('data_preprocessor') or {}).get('mean') or [0, 0, 0])
    if model_cfg.get('teacher'):  # a distillation teacher (RIDEClassifier): its config's model, random weights
        model_cfg['teacher'] = _random_teacher(model_cfg['teacher'], num_classes, tmp_path)
    if model_cfg.get('experts'):  # LFME's subset experts (LFMEClassifier): likewise, one checkpoint each, as wide as
        # the loss's subsets (given, or from the synthetic counts as the loss computes them)
        loss_cfg = model_cfg['head']['loss']
        subsets = loss_cfg.get('subsets') or lfme_subsets(loss_cfg['class_stats']['image_count'])
        model_cfg['experts'] = [_random_teacher(expert, num_classes, tmp_path, f'expert{i}', len(subset))
                                for i, (expert, subset) in enumerate(zip(model_cfg['experts'], subsets))]

    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    hook_types = {hook.get('type') for hook in plain.get('custom_hooks') or []}
    if hook_types & {'LossEpochHook', 'DRWHook', 'AREAHook'}:
        for module in epoch_modules(model):  # what the config's hook does before the first epoch
            module.set_epoch(0)
    labels = torch.arange(4) % num_classes
    batch = _batch(plain['train_dataloader'], channels, labels, num_classes)
    for loss_module in model.modules():  # the state the configs' hooks set before the first step
        if getattr(loss_module, 'curriculum_half_epochs', None) is not None:  # LFMEHook: LFME's curriculum
            loss_module.instance_base_weight = torch.ones(len(labels))
        if isinstance(loss_module, SBCLLoss) and 'SBCLClusterHook' in hook_types:  # SBCL's first clustering
            loss_module.set_clusters(labels.clone(), torch.full((num_classes, ), loss_module.temperature))
    for i, data_sample in enumerate(batch['data_samples']):  # the dataset index, as mmengine's datasets give it
        data_sample.set_metainfo({'sample_idx': i})
    model.train()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), f'{path}: loss {loss}'
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]
    assert grads, f'{path}: no trainable parameter received a gradient'
    assert all(torch.isfinite(g).all() for g in grads), f'{path}: non-finite gradient'

    if plain.get('val_dataloader') is None:  # a pre-training stage without validation (SBCL stage 1)
        return
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(_batch(plain['val_dataloader'], channels, labels, num_classes), False),
                      mode='predict')
    assert len(preds) == len(labels)
    assert all(p.pred_score.shape == (num_classes, ) and torch.isfinite(p.pred_score).all() for p in preds)


@pytest.mark.slow
def test_baseline_trains_on_digits_lt(cls_workspace):
    """tools/train.py on the Digits-LT CE baseline (the base configs of every Digits-LT method config): trains,
    validates with ShotAccuracy and checkpoints."""
    from ..helpers import run, tool

    work = cls_workspace / 'work_baseline'
    out = run(tool('train.py', str(REPO / 'configs/baseline/lenet_1xb32_digits-lt_30e.py'), '--work-dir', str(work),
                   '--cfg-options', 'train_cfg.max_epochs=2', f'val_evaluator.plot_dir={work}'),
              cls_workspace, env={'OMP_NUM_THREADS': '1'}).stdout
    for key in ('all', 'many', 'medium', 'few', 'top1'):
        assert re.search(rf'shot/{key}: \d', out), key
    assert (work / 'epoch_2.pth').is_file() and (work / 'per_class_accuracy.png').is_file()


def test_resnet32_cifar_backbone():
    """The CIFAR-LT ResNet-32 of configs/_base_/models/resnet32_cifar_lt.py: He et al.'s 464,154 parameters with a
    10-class linear layer, 16/32/64 channels, option-A shortcuts (subsampled identity, zero-padded channels)."""
    from mmpretrain.registry import MODELS

    from ltmm.cls.backbones.resnet_cifar import CIFARBasicBlock, ResNet32CIFAR

    net = MODELS.build(dict(type='ResNet32CIFAR', out_indices=(0, 1, 2)))
    assert sum(p.numel() for p in net.parameters()) + 64 * 10 + 10 == 464154
    outs = net(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]

    block = CIFARBasicBlock(16, 32, stride=2).eval()
    torch.nn.init.zeros_(block.conv2.weight)  # the residual branch adds 0 after BN (bias 0): out = relu(shortcut)
    x = torch.randn(2, 16, 8, 8)
    out = block(x)
    torch.testing.assert_close(out[:, 8:24], torch.relu(x[:, :, ::2, ::2]))
    assert out[:, :8].abs().sum() == 0 and out[:, 24:].abs().sum() == 0

    frozen = ResNet32CIFAR(frozen_stages=1, norm_eval=True)
    frozen.train()
    assert not any(p.requires_grad for m in (frozen.stem, frozen.stages[0]) for p in m.parameters())
    assert all(p.requires_grad for p in frozen.stages[1].parameters())
    assert not any(m.training for m in frozen.modules() if isinstance(m, torch.nn.BatchNorm2d))
    with pytest.raises(ValueError, match='out_indices'):
        ResNet32CIFAR(out_indices=(3, ))
    with pytest.raises(ValueError, match='frozen_stages'):
        ResNet32CIFAR(frozen_stages=4)
