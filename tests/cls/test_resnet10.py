"""ResNet10 (OLTR / LFME's ImageNet-LT backbone): the parameter shapes of a naive torchvision
``ResNet(BasicBlock, [1, 1, 1, 1])`` without its classifier, the 512 x 7 x 7 map at 224 px, OLTR's init."""
import pytest
import torch
from torchvision.models.resnet import BasicBlock, ResNet

from ltmm.cls.backbones import ResNet10


def test_parameters_match_torchvision_resnet10_without_fc():
    ours = ResNet10()
    ref = ResNet(BasicBlock, [1, 1, 1, 1])
    ref_shapes = sorted(tuple(p.shape) for name, p in ref.named_parameters() if not name.startswith('fc.'))
    assert sorted(tuple(p.shape) for p in ours.parameters()) == ref_shapes
    # by hand: stem 9,408 + 128; stages 73,984 / 230,144 / 919,040 / 3,673,088 (two 3x3 convs, a 1x1 shortcut from
    # stage 2 on, BatchNorm weight and bias)
    assert sum(p.numel() for p in ours.parameters()) == 4_905_792


def test_feature_map_and_init():
    model = ResNet10(out_indices=(3, ))
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 224, 224))
    assert out[0].shape == (2, 512, 7, 7)
    assert all(torch.all(block.norm2.weight == 1) for block in model.layer4)  # no zero-init residual (OLTR)


def test_other_depth_is_rejected():
    with pytest.raises(ValueError, match='depth must be 10'):
        ResNet10(depth=18)
