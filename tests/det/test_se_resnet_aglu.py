"""SEResNetAGLU (the official SE_ResNet(use_gumbel=True), kostas1515/AGLU mmdetection_v3.2/mmdet/models/backbones/
se_resnet.py) and LearnableTempNormedConv2d (the official NormedConv2d(learnable_temp=True)): every ReLU replaced,
the SE gate, freezing, init, state-dict keys, and the mask predictor against its formula."""
import collections

import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.models.layers import NormedConv2d
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope
from torch import nn

import ltmm.det  # noqa: F401  (registration)
from ltmm.core.aglu import AGLU, APA
from ltmm.det.backbones.se_resnet_aglu import SEResNetAGLU, SqueezeExcitation
from ltmm.det.layers import LearnableTempNormedConv2d


def build(**kwargs) -> nn.Module:
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(dict(type='SEResNetAGLU', **kwargs))


def count(module: nn.Module) -> collections.Counter:
    return collections.Counter(type(m).__name__ for m in module.modules())


@pytest.mark.parametrize('depth, blocks, per_block', [(50, 16, 3), (101, 33, 3), (18, 8, 2)])
def test_every_relu_is_replaced(depth, blocks, per_block):
    """SE-R50: 1 stem + 16 blocks x 3 AGLUs, 16 APA gates, 130 learnable scalars; the only ReLUs left are the SE blocks'
    hidden ones (official). SE-R18 (ltmm's BasicBlock extension): 2 AGLUs per block."""
    model = build(depth=depth)
    counts = count(model)
    assert counts['AGLU'] == 1 + blocks * per_block
    assert counts['APA'] == counts['SqueezeExcitation'] == counts['LayerNorm'] == counts['Dropout'] == blocks
    assert counts['ReLU'] == blocks
    inside_se = {id(m) for se in model.modules() if isinstance(se, SqueezeExcitation) for m in se.modules()}
    assert all(id(m) in inside_se for m in model.modules() if isinstance(m, nn.ReLU))
    assert isinstance(model.relu, AGLU) and all(not hasattr(block, 'relu') for layer in
                                                 (model.layer1, model.layer4) for block in layer)
    scalars = [p for n, p in model.named_parameters() if n.endswith(('lambda_param', 'kappa_param'))]
    assert len(scalars) == 2 * (1 + blocks * (per_block + 1)) and all(p.numel() == 1 for p in scalars)
    if depth == 50:
        assert len(scalars) == 130


def test_plain_se_resnet_without_aglu():
    """use_aglu=False (official use_gumbel=False): ReLUs everywhere, a sigmoid SE gate without LayerNorm and Dropout."""
    model = build(depth=50, use_aglu=False)
    counts = count(model)
    assert counts['AGLU'] == counts['APA'] == counts['LayerNorm'] == counts['Dropout'] == 0
    assert counts['ReLU'] == 1 + 16 * 3 + 16
    se = model.layer2[0].se
    x = torch.randn(2, 512, 3, 3)
    w1, w2 = se.excitation[0].weight, se.excitation[2].weight
    expected = x * torch.sigmoid(torch.relu(x.mean((2, 3)) @ w1.T) @ w2.T)[:, :, None, None]
    torch.testing.assert_close(se(x), expected)


def test_se_gate_is_the_official_block_with_apa():
    """``x * APA(Dropout(W2 ReLU(W1 LayerNorm(pool(x))))))``: the official SE_Block(use_gumbel=True) forward (eval mode,
    Dropout off), its gate an APA with its own lambda and kappa."""
    torch.manual_seed(0)
    se = SqueezeExcitation(64, ratio=16).eval()
    assert isinstance(se.uniact, APA) and se.excitation[3].p == 0.1
    assert [type(m) for m in se.excitation] == [nn.Linear, nn.ReLU, nn.Linear, nn.Dropout]
    assert se.excitation[0].bias is None and se.excitation[0].out_features == 4
    x = torch.randn(3, 64, 5, 5)
    lam, kappa = se.uniact.lambda_param.clamp(min=1e-4), se.uniact.kappa_param
    y = nn.functional.layer_norm(x.mean((2, 3)), (64,), se.norm.weight, se.norm.bias)
    y = torch.relu(y @ se.excitation[0].weight.T) @ se.excitation[2].weight.T
    gate = (1 + lam * torch.exp(-kappa * y)) ** (-1 / lam)
    torch.testing.assert_close(se(x), x * gate[:, :, None, None])
    with pytest.raises(ValueError, match=r'ratio must be in \[1, 64\].*got 128'):
        SqueezeExcitation(64, ratio=128)


def test_official_state_dict_keys_and_torchvision_style_keys():
    """The official module names (so the official ImageNet SE-R50-AGLU-APA checkpoint loads), and every key of
    mmdet's ResNet-50 (torchvision-style) is one of ours."""
    keys = set(build(depth=50).state_dict())
    for key in ('relu.lambda_param', 'relu.kappa_param', 'layer1.0.unirect1.lambda_param',
                'layer1.0.unirect3.kappa_param', 'layer4.2.se.uniact.lambda_param', 'layer4.2.se.norm.weight',
                'layer4.2.se.excitation.0.weight', 'layer4.2.se.excitation.2.weight', 'layer3.5.bn3.weight'):
        assert key in keys, key
    assert set(ResNet(depth=50).state_dict()) <= keys


def test_frozen_stages_and_default_init():
    """frozen_stages=1 freezes the stem convolution and norm and layer1 (AGLUs and SE included) but not the stem
    AGLU (official _freeze_stages); without init_cfg the last norm of every block starts at 0 (zero_init_residual)."""
    model = build(depth=50, frozen_stages=1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {'relu.lambda_param', 'relu.kappa_param'} <= trainable
    assert not any(n.startswith(('conv1.', 'bn1.', 'layer1.')) for n in trainable)
    assert 'layer2.0.unirect1.lambda_param' in trainable and 'layer2.0.se.uniact.kappa_param' in trainable
    model.init_weights()
    assert all((block.norm3.weight == 0).all() for layer in (model.layer1, model.layer4) for block in layer)
    small = build(depth=18, base_channels=16)
    small.init_weights()
    assert all((block.norm2.weight == 0).all() for block in small.layer2)
    pretrained = build(depth=50, init_cfg=dict(type='Pretrained', checkpoint='missing.pth'))
    assert pretrained.zero_init_norm is None  # the checkpoint sets the norms


def test_forward_shapes_gradients_and_checkpointing():
    torch.manual_seed(0)
    model = build(depth=18, base_channels=16, norm_eval=False)
    x = torch.randn(2, 3, 64, 64)
    outs = model(x)
    assert [tuple(o.shape) for o in outs] == [(2, 16, 16, 16), (2, 32, 8, 8), (2, 64, 4, 4), (2, 128, 2, 2)]
    sum(o.sum() for o in outs).backward()
    assert model.layer3[1].unirect2.lambda_param.grad is not None
    assert model.layer3[1].se.uniact.kappa_param.grad.abs().sum() > 0
    big, cp = build(depth=50), build(depth=50, with_cp=True)
    cp.load_state_dict(big.state_dict())
    big.eval()  # (mmdet's ResNet.train returns None)
    cp.eval()
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    for a, b in zip(big(x), cp(x)):
        torch.testing.assert_close(a, b)


def test_learnable_temperature_normed_conv2d():
    """``t^2 <w_c, x> / ((|w_c| + eps)(|x| + eps)) + b_c`` with t a parameter named ``tempearture`` (official), 4.5
    at the start (official learnable_init_value), reset by init_weights before FCNMaskHead's Kaiming re-init."""
    torch.manual_seed(0)
    conv = LearnableTempNormedConv2d(8, 3, 1)
    assert isinstance(conv, NormedConv2d) and conv.tempearture.item() == 4.5
    assert 'tempearture' in conv.state_dict()
    x = torch.randn(2, 8, 5, 5)
    w = conv.weight
    expected = torch.einsum('nchw,kc->nkhw', x / (x.norm(dim=1, keepdim=True) + 1e-6),
                            w[:, :, 0, 0] / (w[:, :, 0, 0].norm(dim=1, keepdim=True) + 1e-6))
    torch.testing.assert_close(conv(x), 4.5 ** 2 * expected + conv.bias[None, :, None, None])
    conv(x).sum().backward()
    assert conv.tempearture.grad is not None and conv.tempearture.grad != 0
    with torch.no_grad():
        conv.tempearture.fill_(2.0)
    torch.testing.assert_close(conv(x), 4.0 * expected + conv.bias[None, :, None, None])
    with DefaultScope.overwrite_default_scope('mmdet'):
        head = MODELS.build(dict(type='FCNMaskHead', num_convs=1, in_channels=8, conv_out_channels=8, num_classes=3,
                                 predictor_cfg=dict(type='LearnableTempNormedConv2d')))
    with torch.no_grad():
        head.conv_logits.tempearture.fill_(1.0)
    head.init_weights()
    assert head.conv_logits.tempearture.item() == 4.5 and (head.conv_logits.bias == 0).all()
    over_kernel = LearnableTempNormedConv2d(4, 2, 3, norm_over_kernel=True)
    w = over_kernel.weight
    x = torch.randn(1, 4, 3, 3)
    expected = (x / (x.norm(dim=1, keepdim=True) + 1e-6) * w / (w.flatten(1).norm(dim=1) + 1e-6)[:, None, None, None]
                ).sum((1, 2, 3))
    torch.testing.assert_close(over_kernel(x)[0, :, 0, 0], 20.25 * expected + over_kernel.bias)


def test_registered_names():
    assert MODELS.get('SEResNetAGLU') is SEResNetAGLU
    assert MODELS.get('LearnableTempNormedConv2d') is LearnableTempNormedConv2d
    assert MODELS.get('AGLU') is AGLU and MODELS.get('APA') is APA
