"""RIDE's multi-expert backbones: the CIFAR ResNet-32 with per-expert stages 2-3 and the ImageNet ResNet / ResNeXt
with per-expert layer3-4. Parameter counts against hand formulas and the plain networks, expert independence (each
expert's output block depends only on its own stages), widths, freezing and errors."""
import pytest
import torch
from mmpretrain.registry import MODELS

import ltmm.cls  # noqa: F401
from ltmm.cls.backbones.ride_resnet import forward_expert_stages


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def basic_stage(c_in: int, c_out: int, blocks: int = 5) -> int:
    """Parameters of one ResNet-32 stage: 3x3 convs without bias, BatchNorm weight + bias, option-A shortcuts."""
    conv, bn = (lambda i, o: 9 * i * o), (lambda c: 2 * c)
    return conv(c_in, c_out) + conv(c_out, c_out) + 2 * bn(c_out) + (blocks - 1) * (2 * conv(c_out, c_out) +
                                                                                 2 * bn(c_out))


def test_ride_cifar_resnet32_matches_the_official_layout():
    """RIDE's CIFAR network (reduce_dimension, 3 experts): shared 16-channel stem and stage 1, per-expert stages of 24
    and 48 channels; a 3 x 48-d feature."""
    net = MODELS.build(dict(type='ResNet32CIFAR', stage_channels=(16, 24, 48), num_experts=3, num_shared_stages=1))
    shared = 9 * 3 * 16 + 2 * 16 + basic_stage(16, 16)
    expert = basic_stage(16, 24) + basic_stage(24, 48)
    assert n_params(net) == shared + 3 * expert == 769456
    assert isinstance(net.stages[0], torch.nn.Sequential) and len(net.stages[1]) == len(net.stages[2]) == 3
    out, = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 3 * 48, 8, 8)


def test_ride_cifar_experts_are_independent():
    torch.manual_seed(0)
    net = MODELS.build(dict(type='ResNet32CIFAR', num_experts=3, num_shared_stages=1, stage_channels=(16, 24, 48)))
    net.init_weights()
    net.eval()
    first = [dict(e.named_parameters())['0.conv1.weight'] for e in net.stages[1]]
    assert not torch.equal(first[0], first[1]), 'experts must be initialised independently'
    x = torch.randn(2, 3, 32, 32)
    before = net(x)[0]
    with torch.no_grad():
        for p in net.stages[2][1].parameters():
            p.add_(0.5)
    after = net(x)[0]
    torch.testing.assert_close(after[:, :48], before[:, :48])
    torch.testing.assert_close(after[:, 96:], before[:, 96:])
    assert not torch.allclose(after[:, 48:96], before[:, 48:96])
    # every expert sees the shared stage-1 feature: expert k's block equals running its own stages on it
    shared = net.stages[0](net.stem(x))
    torch.testing.assert_close(before[:, :48], net.stages[2][0](net.stages[1][0](shared)))


def test_ride_cifar_plain_default_and_errors():
    plain = MODELS.build(dict(type='ResNet32CIFAR'))
    assert all(isinstance(s, torch.nn.Sequential) for s in plain.stages)
    assert n_params(plain) == 9 * 3 * 16 + 2 * 16 + basic_stage(16, 16) + basic_stage(16, 32) + basic_stage(32, 64)
    every = MODELS.build(dict(type='ResNet32CIFAR', num_experts=2, num_shared_stages=0, out_indices=(0, 2)))
    outs = every(torch.randn(1, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(1, 32, 32, 32), (1, 128, 8, 8)]
    frozen = MODELS.build(dict(type='ResNet32CIFAR', num_experts=2, num_shared_stages=1, frozen_stages=2))
    frozen.train()
    assert not any(p.requires_grad for p in frozen.stages[1].parameters())
    assert all(p.requires_grad for p in frozen.stages[2].parameters())
    with pytest.raises(ValueError, match='num_shared_stages'):
        MODELS.build(dict(type='ResNet32CIFAR', num_experts=3))  # several experts need a stage of their own
    with pytest.raises(ValueError, match='stage_channels'):
        MODELS.build(dict(type='ResNet32CIFAR', stage_channels=(16, 25, 48)))
    with pytest.raises(ValueError, match='shared stages must come first'):
        forward_expert_stages(torch.zeros(1, 1), [torch.nn.ModuleList([torch.nn.Identity()] * 2), torch.nn.Identity()],
                              (1, ))


@pytest.mark.parametrize('kind,extra', [('ResNet', {}), ('ResNeXt', dict(groups=32, width_per_group=4))])
def test_ride_imagenet_experts_are_copies_of_the_late_stages(kind, extra):
    """At full width each expert is exactly the plain network's layer3 + layer4; the stem, layer1 and layer2 are
    shared."""
    plain = MODELS.build(dict(type=kind, depth=50, **extra))
    ride = MODELS.build(dict(type=f'RIDE{kind}', depth=50, num_experts=3, **extra))
    late = n_params(plain.layer3) + n_params(plain.layer4)
    assert n_params(ride) == n_params(plain) - late + 3 * late
    assert all(len(getattr(ride, f'layer{i}')) == 3 for i in (3, 4))
    assert isinstance(ride.layer2, torch.nn.Sequential) and ride.feat_dim == 3 * 2048
    assert not torch.equal(ride.layer3[0][0].conv1.weight, ride.layer3[1][0].conv1.weight)


@pytest.mark.parametrize('kind,extra,mid', [('ResNet', {}, 192), ('ResNeXt', dict(groups=32, width_per_group=4), 384)])
def test_ride_imagenet_reduced_width(kind, extra, mid):
    """reduce_dimension: bottleneck planes 192 / 384 in layer3 / layer4 (ResNeXt 32x4d: 384 / 768 grouped), a
    1536-d feature per expert."""
    net = MODELS.build(dict(type=f'RIDE{kind}', depth=50, num_experts=3, expert_widen_factor=0.75, **extra))
    block = net.layer3[2][0]
    assert (block.conv1.in_channels, block.conv1.out_channels, block.conv3.out_channels) == (512, mid, 768)
    assert block.conv2.groups == extra.get('groups', 1)
    assert net.layer4[0][-1].conv3.out_channels == 1536 and net.expert_channels == 1536
    net.eval()
    out, = net(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 3 * 1536, 2, 2)


def test_ride_resnet_freezing_and_errors():
    net = MODELS.build(dict(type='RIDEResNet', depth=18, num_experts=2, frozen_stages=3, norm_eval=True))
    net.train()
    assert not any(p.requires_grad for p in net.layer3.parameters())
    assert all(p.requires_grad for p in net.layer4.parameters())
    assert not any(m.training for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert net(torch.randn(1, 3, 64, 64))[0].shape == (1, 2 * 512, 2, 2)
    with pytest.raises(ValueError, match='out_indices'):
        MODELS.build(dict(type='RIDEResNet', depth=18, out_indices=(2, 3)))
    with pytest.raises(ValueError, match='num_shared_stages'):
        MODELS.build(dict(type='RIDEResNet', depth=18, num_shared_stages=4))
    with pytest.raises(ValueError, match='num_experts'):
        MODELS.build(dict(type='RIDEResNet', depth=18, num_experts=0))
