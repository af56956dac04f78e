"""Checks shared by the detection loss tests: value and gradient of a module against a float64 naive reference,
low-precision logits under a loss scale, and bf16 autocast."""
from typing import Callable, Tuple

import torch


def loss_and_grad(module, z: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The module's loss and its gradient with respect to the logits ``z``."""
    z = z.detach().clone().requires_grad_()
    loss = module(z, labels)
    loss.backward()
    return loss.detach(), z.grad


def ref_loss_and_grad(reference: Callable, z: torch.Tensor, *args, **kwargs) -> Tuple[torch.Tensor, torch.Tensor]:
    """A naive reference loss ``reference(z, *args, **kwargs)`` and its gradient, in float64."""
    z64 = z.detach().double().requires_grad_()
    loss = reference(z64, *args, **kwargs)
    loss.backward()
    return loss.detach(), z64.grad


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 2e-6, atol: float = 1e-7) -> None:
    torch.testing.assert_close(actual.double(), expected.double(), rtol=rtol, atol=atol)


def check_loss_scaled_low_precision(make_loss: Callable[[], torch.nn.Module], z_low: torch.Tensor,
                                    labels: torch.Tensor, scale: float) -> None:
    """Under AMP the loss is multiplied by the loss scale before backward: the loss of fp16 / bf16 logits ``z_low``
    is float32 and finite, and their gradient (divided by the scale) equals the float32 path's within the input
    precision. ``make_loss`` builds a fresh module each time (the same random draws for both paths)."""
    dtype = z_low.dtype
    z32 = z_low.float().requires_grad_()
    make_loss()(z32, labels).backward()
    z_low = z_low.detach().requires_grad_()
    loss = make_loss()(z_low, labels)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    (loss * scale).backward()
    assert z_low.grad.dtype == dtype and torch.isfinite(z_low.grad).all()
    eps = 2 ** -10 if dtype == torch.float16 else 2 ** -7
    torch.testing.assert_close(z_low.grad.float() / scale, z32.grad, rtol=eps, atol=1e-6 / scale)


def check_bf16_autocast(make_loss: Callable[[], torch.nn.Module], width: int, labels: torch.Tensor) -> None:
    """Logits of a linear classifier under CPU bf16 autocast: a float32, finite loss and finite, non-zero gradients."""
    fc = torch.nn.Linear(8, width)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        logits = fc(torch.randn(len(labels), 8, generator=torch.Generator().manual_seed(6)))
        assert logits.dtype == torch.bfloat16
        loss = make_loss()(logits, labels)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(fc.weight.grad).all() and fc.weight.grad.abs().sum() > 0
