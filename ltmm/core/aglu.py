"""APA / AGLU: Adaptive Parametric Activation and the Adaptive Generalised Linear Unit.

Alexandridis et al., "Adaptive Parametric Activation", ECCV 2024 (arXiv 2407.08567). Official code:
kostas1515/AGLU@ed45253, ``mmdetection_v3.2/mmdet/models/backbones/se_resnet.py`` (``Unified`` = APA, ``UniRect`` =
AGLU; the same classes in ``classification/resnet_pytorch.py``).

With learnable scalars ``lambda`` and ``kappa``:

- ``APA(z) = (1 + lambda exp(-kappa z)) ** (-1 / lambda)``, computed as
  ``exp(log_sigmoid(kappa z - ln lambda) / lambda)`` (the official ``exp((1/lambda) Softplus(beta=-1)(...))``:
  ``Softplus(beta=-1)(u) = -ln(1 + e^-u) = log_sigmoid(u)``). ``lambda = kappa = 1`` gives the sigmoid; ``lambda -> 0``
  the Gumbel CDF ``exp(-exp(-kappa z))``. Values lie in (0, 1]: an adaptive gate (the SE block's sigmoid) or an
  adaptive classification activation.
- ``AGLU(z) = z APA(z)``: ``lambda = kappa = 1`` gives SiLU, ``lambda -> 0`` gives ``z exp(-exp(-kappa z))``. It
  replaces ReLU.

Task-agnostic (torch only): ``ltmm.det`` and ``ltmm.cls`` import this module, which registers ``APA`` and ``AGLU`` in
the MODELS registry of each installed framework (mmdet, mmpretrain), so ``act_cfg=dict(type='AGLU')`` builds with
mmcv's ``build_activation_layer`` under either default scope. ``import ltmm`` does not import it (the core stays
framework-free).
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .registry import register_into

#: the official lower clamp of lambda in the forward pass (se_resnet.py ``torch.clamp(self.lambda_param, min=0.0001)``)
MIN_LAMBDA = 1e-4


def apa(x: Tensor, lambda_: Tensor, kappa: Tensor, min_lambda: float = MIN_LAMBDA) -> Tensor:
    """``(1 + lambda exp(-kappa x)) ** (-1 / lambda)`` elementwise, with ``lambda`` clamped at ``min_lambda`` (its
    gradient is 0 below, as the official ``torch.clamp``).

    ``lambda_`` and ``kappa`` broadcast against ``x``. The computation runs in float32 (float64 for float64 input) and
    the result has ``x``'s dtype: in float16 / bfloat16 ``d/d lambda`` holds ``1 / lambda^2`` (1e8 at the clamp), which
    overflows float16.
    """
    dtype = torch.promote_types(x.dtype, torch.float32)
    lam = lambda_.to(dtype).clamp(min=min_lambda)
    return torch.exp(F.logsigmoid(kappa.to(dtype) * x.to(dtype) - torch.log(lam)) / lam).to(x.dtype)


class _AdaptiveActivation(nn.Module):
    """``lambda_param`` and ``kappa_param`` (the official names, so official checkpoints load), drawn uniformly from
    ``lambda_init`` and ``kappa_init``; one value per module, or one per channel (dim 1) with ``num_parameters > 1``."""

    def __init__(self, num_parameters: int, lambda_init: Sequence[float], kappa_init: Sequence[float],
                 min_lambda: float) -> None:
        super().__init__()
        name = type(self).__name__
        if num_parameters < 1:
            raise ValueError(f'{name}: num_parameters must be >= 1, got {num_parameters}')
        for arg, bounds in (('lambda_init', lambda_init), ('kappa_init', kappa_init)):
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                raise ValueError(f'{name}: {arg} must be (low, high) with low <= high, got {bounds}')
        if not min_lambda > 0:
            raise ValueError(f'{name}: min_lambda must be > 0 (ln lambda and 1 / lambda), got {min_lambda}')
        self.num_parameters = num_parameters
        self.min_lambda = min_lambda
        self.lambda_param = nn.Parameter(torch.empty(num_parameters).uniform_(*lambda_init))
        self.kappa_param = nn.Parameter(torch.empty(num_parameters).uniform_(*kappa_init))

    def gate(self, x: Tensor) -> Tensor:
        """``APA(x)`` with this module's parameters (per channel along dim 1 when ``num_parameters > 1``)."""
        lam, kappa = self.lambda_param, self.kappa_param
        if self.num_parameters > 1:
            if x.dim() < 2 or x.size(1) != self.num_parameters:
                raise ValueError(f'{type(self).__name__}: {self.num_parameters} per-channel parameters, but the input '
                                 f'has shape {tuple(x.shape)} (channels on dim 1)')
            shape = (1, -1) + (1,) * (x.dim() - 2)
            lam, kappa = lam.view(shape), kappa.view(shape)
        return apa(x, lam, kappa, self.min_lambda)

    def extra_repr(self) -> str:
        return f'num_parameters={self.num_parameters}'


@register_into('MODELS')
class APA(_AdaptiveActivation):
    """Adaptive Parametric Activation ``(1 + lambda exp(-kappa x)) ** (-1 / lambda)`` (see the module docstring): the
    official SE-ResNet's SE gate in place of the sigmoid (``Unified``).

    Args:
        num_parameters: 1 (default and official: one scalar lambda and kappa per module) or the number of channels
            (dim 1) for per-channel parameters (the official per-channel form exists but no config uses it).
        lambda_init: lambda ~ U(low, high). Default (0, 1) (se_resnet.py ``Unified``, ``torch.nn.init.uniform_``).
        kappa_init: kappa ~ U(low, high). Default (-1, 0) (se_resnet.py ``Unified``: a negative kappa).
        min_lambda: lambda's clamp in the forward pass. Default 1e-4 (official).
        inplace: ignored (mmcv's ``ConvModule`` passes ``inplace=True`` to activations it does not know).

    Deviations from the official code: ``log_sigmoid`` instead of ``Softplus(beta=-1, threshold=20)`` (the same
    function; the official linear branch for arguments below -20 differs by < 2.1e-9 before the division by lambda)
    and float32 internally (:func:`apa`); per-channel parameters are stored as (C,) and broadcast on dim 1 of any
    input (official: (1, C, 1, 1), 4-D inputs only).
    """

    def __init__(self, num_parameters: int = 1, lambda_init: Sequence[float] = (0.0, 1.0),
                 kappa_init: Sequence[float] = (-1.0, 0.0), min_lambda: float = MIN_LAMBDA,
                 inplace: bool = False) -> None:
        super().__init__(num_parameters, lambda_init, kappa_init, min_lambda)

    def forward(self, x: Tensor) -> Tensor:
        return self.gate(x)


@register_into('MODELS')
class AGLU(_AdaptiveActivation):
    """Adaptive Generalised Linear Unit ``x APA(x)`` (see the module docstring): the official SE-ResNet's ReLUs
    (``UniRect``). ``inplace`` is accepted and ignored, so ``act_cfg=dict(type='AGLU', inplace=True)`` replaces
    ``dict(type='ReLU', inplace=True)`` (and mmcv's ``ConvModule``, which adds ``inplace=True``, builds it).

    Args:
        num_parameters: 1 (default and official) or the number of channels (dim 1), as :class:`APA`.
        lambda_init: lambda ~ U(low, high). Default (0, 1) (se_resnet.py ``UniRect``).
        kappa_init: kappa ~ U(low, high). Default (1, 1.3) (se_resnet.py ``UniRect``; the classification copy draws
            U(0.8, 1.2) and the Swin copy U(0, 1), neither used by the LVIS configs).
        min_lambda: lambda's clamp in the forward pass. Default 1e-4 (se_resnet.py; the classification copy uses
            ``ReLU(lambda) + 1e-8`` with a hand-written backward).
        inplace: ignored (an AGLU cannot overwrite its input: the product needs it).

    Deviations from the official code: as :class:`APA`; the official autograd Function (commented out in
    se_resnet.py) is not used, autograd differentiates the forward.
    """

    def __init__(self, num_parameters: int = 1, lambda_init: Sequence[float] = (0.0, 1.0),
                 kappa_init: Sequence[float] = (1.0, 1.3), min_lambda: float = MIN_LAMBDA,
                 inplace: bool = False) -> None:
        super().__init__(num_parameters, lambda_init, kappa_init, min_lambda)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)
