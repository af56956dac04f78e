"""APA / AGLU (ltmm.core.aglu) against a naive transcription of the official formula (kostas1515/AGLU
mmdetection_v3.2/mmdet/models/backbones/se_resnet.py ``Unified`` / ``UniRect``): values and gradients with respect to
the input, lambda and kappa; the special cases; low precision; parameters and their state dict; registration."""
import pytest
import torch
from torch import nn

from ltmm.core.aglu import AGLU, APA, apa


def official_apa(x: torch.Tensor, lam: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """se_resnet.py ``Unified.forward``: ``exp((1 / l) Softplus(beta=-1)(kappa x - ln l))``, l = clamp(lambda, 1e-4)."""
    lam = torch.clamp(lam, min=0.0001)
    return torch.exp((1 / lam) * nn.Softplus(beta=-1.0)(kappa * x - torch.log(lam)))


def closed_form_apa(x: torch.Tensor, lam: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """The paper's ``(1 + lambda exp(-kappa x)) ** (-1 / lambda)``."""
    return (1 + lam * torch.exp(-kappa * x)) ** (-1 / lam)


def grads(fn, x, lam, kappa):
    """fn(x, lambda, kappa) summed against fixed weights, and its gradients with respect to the three, in float64."""
    x, lam, kappa = (t.detach().double().requires_grad_() for t in (x, lam, kappa))
    w = torch.linspace(-1, 2, x.numel(), dtype=torch.float64).view_as(x)
    out = fn(x, lam, kappa)
    (out * w).sum().backward()
    return out.detach(), x.grad, lam.grad, kappa.grad


X = torch.linspace(-12, 12, 97)


@pytest.mark.parametrize('lam, kappa', [(0.37, 1.15), (1.0, 1.0), (0.02, 1.3), (2.5, -0.6), (0.8, 0.0)])
def test_apa_value_and_gradients_match_the_official_formula(lam, kappa):
    lam, kappa = torch.tensor([lam]), torch.tensor([kappa])
    ours = grads(apa, X, lam, kappa)
    for reference in (official_apa, closed_form_apa):
        for actual, expected in zip(ours, grads(reference, X, lam, kappa)):
            torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-12)


def test_aglu_module_is_x_times_apa_with_gradients_for_its_parameters():
    torch.manual_seed(0)
    module = AGLU().double()
    x = (X.double() * 0.7).requires_grad_()
    module(x).sum().backward()
    x2, lam, kappa = (t.detach().clone().requires_grad_() for t in (x, module.lambda_param, module.kappa_param))
    (x2 * official_apa(x2, lam, kappa)).sum().backward()  # se_resnet.py UniRect.forward
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(module.lambda_param.grad, lam.grad)
    torch.testing.assert_close(module.kappa_param.grad, kappa.grad)


def test_special_cases_sigmoid_silu_and_gumbel():
    x = X.double()
    one = torch.ones(1, dtype=torch.float64)
    torch.testing.assert_close(apa(x, one, one), torch.sigmoid(x), rtol=1e-12, atol=1e-15)
    aglu = AGLU().double()
    apa_module = APA().double()
    with torch.no_grad():
        for m in (aglu, apa_module):
            m.lambda_param.fill_(1.0)
            m.kappa_param.fill_(1.0)
    torch.testing.assert_close(aglu(x), nn.functional.silu(x), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(apa_module(x), torch.sigmoid(x), rtol=1e-12, atol=1e-15)
    # lambda -> 0 (the clamp, 1e-4): the Gumbel CDF exp(-exp(-kappa x)); kappa scales the input
    kappa = torch.tensor([1.2], dtype=torch.float64)
    gumbel = torch.exp(-torch.exp(-kappa * x))
    torch.testing.assert_close(apa(x[x > -2], torch.tensor([1e-4], dtype=torch.float64), kappa), gumbel[x > -2],
                               rtol=0, atol=5e-5)


def test_lambda_is_clamped_at_1e_4_with_zero_gradient_below():
    x = X.double()
    kappa = torch.ones(1, dtype=torch.float64)
    low = torch.tensor([1e-6], dtype=torch.float64, requires_grad=True)
    negative = torch.tensor([-0.5], dtype=torch.float64, requires_grad=True)
    at_clamp = apa(x, torch.tensor([1e-4], dtype=torch.float64), kappa)
    for lam in (low, negative):
        out = apa(x, lam, kappa)
        torch.testing.assert_close(out, at_clamp, rtol=0, atol=0)
        out.sum().backward()
        assert lam.grad.item() == 0
    assert ((at_clamp >= 0) & (at_clamp <= 1)).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('lam', [1e-4, 2e-4, 0.5, 1.0])
def test_low_precision_is_finite_and_close_to_float32(dtype, lam):
    """fp16 / bf16 activations up to float16's largest value (and 1e30 in bf16; the float32 gradient ``x / lambda``
    overflows only past 1e34), lambda down to the clamp: finite values in the input's dtype, finite gradients for the
    input and both parameters (d/d lambda holds 1 / lambda^2 = 1e8 at the clamp, beyond float16), and the float32
    values within the input's precision."""
    big = 6e4 if dtype == torch.float16 else 1e30
    x = torch.cat([torch.linspace(-30, 30, 121), torch.tensor([-big, big, 0.0])]).to(dtype).requires_grad_()
    for cls in (AGLU, APA):
        module = cls()
        with torch.no_grad():
            module.lambda_param.fill_(lam)
            module.kappa_param.fill_(1.1 if cls is AGLU else -0.7)
        out = module(x)
        assert out.dtype == dtype and torch.isfinite(out).all()
        (out.float() * 1e-3).sum().backward()
        assert torch.isfinite(x.grad).all()
        assert torch.isfinite(module.lambda_param.grad).all() and torch.isfinite(module.kappa_param.grad).all()
        reference = module(x.detach().float())
        eps = 2 ** -10 if dtype == torch.float16 else 2 ** -7
        torch.testing.assert_close(out.float(), reference.to(dtype).float(), rtol=eps, atol=eps)
        x.grad = None


def test_bf16_autocast_through_a_convolution():
    conv, act = nn.Conv2d(3, 4, 3), AGLU()
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        y = conv(torch.randn(2, 3, 8, 8))
        out = act(y)
    assert out.dtype == y.dtype == torch.bfloat16 and torch.isfinite(out).all()
    out.float().sum().backward()
    assert torch.isfinite(act.lambda_param.grad).all() and act.kappa_param.grad.abs().sum() > 0


def test_parameters_init_and_state_dict_round_trip():
    torch.manual_seed(1)
    aglus, apas = [AGLU() for _ in range(200)], [APA() for _ in range(200)]
    for modules, kappa_range in ((aglus, (1.0, 1.3)), (apas, (-1.0, 0.0))):  # se_resnet.py UniRect / Unified
        lam = torch.cat([m.lambda_param.detach() for m in modules])
        kappa = torch.cat([m.kappa_param.detach() for m in modules])
        assert lam.min() >= 0 and lam.max() <= 1 and lam.std() > 0.2
        assert kappa.min() >= kappa_range[0] and kappa.max() <= kappa_range[1]
    module = aglus[0]
    state = module.state_dict()
    assert set(state) == {'lambda_param', 'kappa_param'}  # the official names
    assert state['lambda_param'].shape == state['kappa_param'].shape == (1,)
    assert {n for n, p in module.named_parameters() if p.requires_grad} == {'lambda_param', 'kappa_param'}
    other = AGLU()
    other.load_state_dict(state)
    x = torch.randn(5)
    torch.testing.assert_close(other(x), module(x))


def test_per_channel_parameters():
    torch.manual_seed(2)
    module = AGLU(num_parameters=3)
    x = torch.randn(2, 3, 4, 4)
    lam, kappa = module.lambda_param.detach(), module.kappa_param.detach()
    expected = torch.stack([x[:, c] * official_apa(x[:, c], lam[c], kappa[c]) for c in range(3)], dim=1)
    torch.testing.assert_close(module(x), expected)
    assert APA(num_parameters=3)(torch.randn(5, 3)).shape == (5, 3)  # the SE gate's (N, C) input
    with pytest.raises(ValueError, match=r'3 per-channel parameters.*\(2, 4, 4, 4\)'):
        module(torch.randn(2, 4, 4, 4))


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_parameters=0), 'num_parameters must be >= 1, got 0'),
    (dict(lambda_init=(1.0, 0.5)), r'lambda_init must be \(low, high\).*\(1.0, 0.5\)'),
    (dict(kappa_init=(1.0,)), r'kappa_init must be \(low, high\)'),
    (dict(min_lambda=0.0), 'min_lambda must be > 0'),
])
def test_bad_arguments_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AGLU(**kwargs)


@pytest.mark.parametrize('scope', ['mmdet', 'mmpretrain'])
def test_build_activation_layer_under_either_default_scope(scope):
    """``act_cfg=dict(type='AGLU')`` builds through mmcv's build_activation_layer in mmdet and mmpretrain configs."""
    from mmcv.cnn import ConvModule, build_activation_layer
    from mmengine.registry import DefaultScope

    import ltmm.engine  # noqa: F401  (registers every installed task package)

    with DefaultScope.overwrite_default_scope(scope):
        aglu = build_activation_layer(dict(type='AGLU', inplace=True))
        gate = build_activation_layer(dict(type='APA', num_parameters=4))
        conv = ConvModule(3, 4, 3, norm_cfg=dict(type='BN'), act_cfg=dict(type='AGLU'))  # adds inplace=True
        gated = ConvModule(3, 4, 1, act_cfg=dict(type='APA'))
    assert type(aglu) is AGLU and type(gate) is APA and gate.lambda_param.shape == (4,)
    assert type(conv.activate) is AGLU and type(gated.activate) is APA
    assert conv(torch.randn(2, 3, 5, 5)).shape == (2, 4, 3, 3)
