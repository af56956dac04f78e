"""The task packages register their modules into the registries of the installed frameworks (mmdet, mmpretrain), under
names of their own (``ltmm.engine`` imports every installed one); with one framework missing, the other's task
packages still register and work; ``import ltmm`` itself imports no framework."""
import importlib
import json
import subprocess
import sys
import textwrap

import pytest

import ltmm.engine  # noqa: F401  (registers every installed task package)

from ..helpers import CLS_CFG, REPO

# Every ltmm module, by scope and registry. A module added to ltmm must be added here, and vice versa.
EXPECTED = {
    'mmdet': {
        'DATASETS': {'LTShapesDataset'},
        'METRICS': {'FastLVISMetric'},
        'MODELS': {'SigmoidCELoss', 'EqualizationLoss', 'EqualizationLossV2', 'FederatedLoss', 'ROGRankingLoss',
                   'ROGShared2FCBBoxHead', 'DistributionBalancedLoss', 'GumbelLoss', 'ECMLoss', 'FRACALCalibration',
                   'CalibratedBBoxHead', 'BalancedGroupSoftmaxLoss', 'APA', 'AGLU', 'SEResNetAGLU',
                   'LearnableTempNormedConv2d', 'EqualizedFocalLoss'},
        'HOOKS': {'FreezeAllButHook'},
        'DATA_SAMPLERS': set(),
        'PARAM_SCHEDULERS': set(),
        'TRANSFORMS': set(),
    },
    'mmpretrain': {
        'DATASETS': {'ClassSubsetDataset', 'ImageNetLTDataset', 'PlacesLTDataset', 'INat2018Dataset', 'CIFARLTDataset',
                     'MultiLabelListDataset', 'VOCLTDataset', 'COCOMLTDataset', 'LTShapesMultiLabelDataset',
                     'PairedDataset', 'TestAgnosticDataset'},
        'METRICS': {'ShotAccuracy', 'MultiLabelShotMAP'},
        'MODELS': {'BalancedSoftmaxLoss', 'LogitAdjustedLoss', 'LDAMLoss', 'ClassBalancedLoss', 'SoftmaxEQLLoss',
                   'BalancedBCELoss', 'DistributionBalancedLoss', 'RIDELoss', 'RIDEDistillLoss', 'RIDEClassifier',
                   'LabelAwareSmoothingLoss',
                   'CosineClsHead', 'TauNormClsHead', 'LWSClsHead', 'MultiExpertClsHead', 'LogitAdjustedClsHead',
                   'CausalNormClsHead', 'ResNet10', 'ResNet32CIFAR', 'RIDEResNet', 'RIDEResNeXt', 'LADELoss',
                   'WeightedSoftmaxLoss', 'AREALoss', 'ResLTHead', 'ResLTLoss', 'CCSAMClsHead', 'TLCLoss',
                   'SoftmaxFocalLoss', 'GLMCHead', 'GLMCClassifier', 'RSG', 'RSGClassifier', 'SADELoss', 'BalPoELoss',
                   'MDCSLoss', 'MDCSClassifier', 'APA', 'AGLU', 'SupConLoss', 'QueueContrastClassifier', 'KCLLoss',
                   'TSCLoss', 'PaCoLoss', 'GPaCoLoss', 'MLPNeck', 'BCLLoss', 'MultiViewContrastClassifier', 'SBCLLoss',
                   'SBCLQueueLoss', 'DeiTLTLoss', 'DeiTLTClsHead', 'DeiTLTClassifier', 'LFMELoss', 'LFMEClassifier',
                   'NCLLoss', 'NCLClassifier', 'NCLMoCoClassifier', 'SHIKELoss', 'SHIKEResNet32', 'SHIKEClsHead'},
        'HOOKS': {'DRWHook', 'DecoupledStageHook', 'LossEpochHook', 'TDEMomentumHook', 'AREAHook', 'SBCLClusterHook',
                  'LFMEHook', 'QueuePrefillHook'},
        'DATA_SAMPLERS': {'ClassAwareSampler', 'PowerSampler', 'PartnerSampler', 'DeferredResampler'},
        'PARAM_SCHEDULERS': {'PaCoWarmupCosineLR', 'PaCoWarmupStepLR', 'SHIKEWarmupCosineLR'},
        'TRANSFORMS': {'FloorPosterize'},
    },
}


def test_import_ltmm_imports_no_framework():
    code = ('import sys, ltmm, ltmm.core.lvis_eval, ltmm.core.split_manifest, ltmm.core.class_stats; '
            'print(sorted(m for m in ("torch", "mmengine", "mmdet", "mmpretrain", "mmcv") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


def ltmm_names(scope: str, registry: str) -> set:
    node = getattr(importlib.import_module(f'{scope}.registry'), registry)
    node.import_from_location()  # the framework's own modules too, so a name collision would raise here
    return {name for name, obj in node.module_dict.items() if obj.__module__.startswith('ltmm.')}


@pytest.mark.parametrize('scope', sorted(EXPECTED))
def test_registered_names_per_scope(scope):
    for registry, names in EXPECTED[scope].items():
        assert ltmm_names(scope, registry) == names, f'{scope}.{registry}'


def test_framework_modules_still_register():
    import mmdet.models  # noqa: F401  (would raise KeyError on a name collision)
    import mmpretrain.models  # noqa: F401
    from mmdet.registry import MODELS as DET_MODELS
    from mmpretrain.registry import MODELS as CLS_MODELS

    assert DET_MODELS.get('SeesawLoss').__module__.startswith('mmdet.')
    assert CLS_MODELS.get('SeesawLoss').__module__.startswith('mmpretrain.')


def test_build_from_config_under_default_scope(tmp_path):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import METRICS

    init_default_scope('mmpretrain')
    metric = METRICS.build(dict(type='ShotAccuracy', plot_dir='',
                                class_stats=dict(num_images=3, image_count=[2, 1], instance_count=[2, 1])))
    assert type(metric).__name__ == 'ShotAccuracy'


# Run in a fresh interpreter in which `framework` cannot be imported (as if it were not installed).
WITHOUT_FRAMEWORK = textwrap.dedent("""
    import importlib, importlib.abc, json, sys

    framework, expected, workspace = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == framework or name.startswith(framework + '.'):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NotInstalled())
    import ltmm.engine
    print('TASKS', list(ltmm.engine.TASKS))
    for scope, registries in expected.items():
        for registry, names in registries.items():
            node = getattr(importlib.import_module(f'{scope}.registry'), registry)
            missing = sorted(set(names) - set(node.module_dict))
            assert not missing, f'{scope}.{registry} lacks {missing}'
    for task in ('cls', 'multilabel', 'det'):
        try:
            importlib.import_module(f'ltmm.{task}')
        except ModuleNotFoundError as e:
            print('ERROR', task, e.name, str(e))
    if framework == 'mmdet':  # classification and multi-label work: a loss each, and a short training run
        import os, torch
        from mmpretrain.registry import MODELS
        stats = dict(num_images=4, image_count=[3, 2, 1], instance_count=[3, 2, 1])
        multi_hot = torch.tensor([[1., 0, 1], [0, 1, 0]])
        for cfg, label in ((dict(type='LDAMLoss', class_stats=stats, drw=dict(start_epoch=0)), torch.tensor([0, 2])),
                           (dict(type='DistributionBalancedLoss', class_stats=stats), multi_hot)):
            loss = MODELS.build(cfg)(torch.randn(2, 3, requires_grad=True), label)
            loss.backward()
            assert torch.isfinite(loss), cfg
        os.chdir(workspace)
        from mmengine.config import Config
        from ltmm.engine import build_runner
        cfg = Config.fromfile(sys.argv[4])
        cfg.merge_from_dict({'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1, 'work_dir': 'work_dirs/no_mmdet',
                             'train_dataloader.num_workers': 0, 'val_dataloader.num_workers': 0,
                             'train_dataloader.persistent_workers': False,
                             'val_dataloader.persistent_workers': False})
        cfg.launcher = 'none'
        build_runner(cfg).train()
        print('TRAINED')
""")


def run_without(framework: str, workspace) -> str:
    other = 'mmpretrain' if framework == 'mmdet' else 'mmdet'
    # DistributionBalancedLoss belongs to ltmm.multilabel (mmpretrain); mmdet's MODELS gets it only with both installed
    expected = {k: sorted(v - {'DistributionBalancedLoss'} if other == 'mmdet' else v)
                for k, v in EXPECTED[other].items()}
    proc = subprocess.run([sys.executable, '-c', WITHOUT_FRAMEWORK, framework, json.dumps({other: expected}),
                           str(workspace), CLS_CFG],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_without_mmdet_classification_and_multilabel_register_and_train(cls_workspace):
    out = run_without('mmdet', cls_workspace)
    assert "TASKS ['cls', 'multilabel']" in out
    assert 'ERROR det mmdet ltmm.det (long-tailed detection' in out and 'needs mmdet, which is not installed' in out
    assert 'ERROR cls' not in out and 'ERROR multilabel' not in out
    assert 'TRAINED' in out


@pytest.mark.slow
def test_without_mmpretrain_detection_registers(tmp_path):
    out = run_without('mmpretrain', tmp_path)
    assert "TASKS ['det']" in out
    assert 'ERROR cls mmpretrain ltmm.cls (long-tailed classification' in out
    assert 'ERROR multilabel mmpretrain' in out
