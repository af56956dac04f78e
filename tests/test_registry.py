"""`import ltmm` registers its modules into mmdet's and mmpretrain's registries, under names of its own."""
import importlib

import pytest

import ltmm  # noqa: F401

# Every ltmm module, by scope and registry. A module added to ltmm must be added here, and vice versa.
EXPECTED = {
    'mmdet': {
        'DATASETS': {'LTShapesDataset'},
        'METRICS': {'FastLVISMetric'},
        'MODELS': {'SigmoidCELoss', 'EqualizationLoss', 'EqualizationLossV2', 'FederatedLoss', 'ROGRankingLoss',
                   'ROGShared2FCBBoxHead', 'DistributionBalancedLoss'},
        'HOOKS': set(),
        'DATA_SAMPLERS': set(),
    },
    'mmpretrain': {
        'DATASETS': {'ImageNetLTDataset', 'PlacesLTDataset', 'INat2018Dataset', 'CIFARLTDataset',
                     'MultiLabelListDataset', 'VOCLTDataset', 'COCOMLTDataset', 'LTShapesMultiLabelDataset'},
        'METRICS': {'ShotAccuracy', 'MultiLabelShotMAP'},
        'MODELS': {'BalancedSoftmaxLoss', 'LogitAdjustedLoss', 'LDAMLoss', 'ClassBalancedLoss', 'SoftmaxEQLLoss',
                   'BalancedBCELoss', 'DistributionBalancedLoss', 'RIDELoss', 'CosineClsHead', 'TauNormClsHead',
                   'LWSClsHead', 'MultiExpertClsHead', 'LogitAdjustedClsHead', 'ResNet32CIFAR',
                   'RIDEResNet', 'RIDEResNeXt'},
        'HOOKS': {'DRWHook', 'DecoupledStageHook'},
        'DATA_SAMPLERS': {'ClassAwareSampler', 'PowerSampler'},
    },
}


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
