"""Per-class weights and priors from training counts, shared by the re-weighting methods of every task
(class-balanced loss, LDAM-DRW's DRW, RIDE, the Distribution-Balanced loss's ``CB`` mode, logit adjustment)."""
from typing import Sequence, Union

import numpy as np
import torch

Counts = Union[Sequence[int], np.ndarray, torch.Tensor]


def _float64(counts: Counts) -> torch.Tensor:
    """``counts`` as a float64 tensor (a copy for arrays and lists; ClassStats' arrays are read-only)."""
    if isinstance(counts, torch.Tensor):
        return counts.double()
    return torch.tensor(np.asarray(counts), dtype=torch.float64)


def effective_number_weights(counts: Counts, beta: float = 0.9999) -> torch.Tensor:
    """Class-balanced weights from the effective number of samples (Cui et al., CVPR 2019).

    ``E_j = (1 - beta^n_j) / (1 - beta)``, ``w_j = 1 / E_j``, then rescaled so that ``sum_j w_j = C``
    (richardaecn/class-balanced-loss, and LDAM-DRW's ``Reweight``/``DRW`` rules). ``beta = 0`` gives all ones.

    Args:
        counts: training samples per class, shape (C,); every count must be >= 1.
        beta: hyper-parameter in [0, 1); the official default is 0.9999.

    Returns:
        float32 tensor of shape (C,).
    """
    n = _float64(counts)
    if n.ndim != 1 or n.numel() == 0:
        raise ValueError(f'counts must be a non-empty 1-D sequence, got shape {tuple(n.shape)}')
    if not 0.0 <= beta < 1.0:
        raise ValueError(f'beta must be in [0, 1), got {beta}')
    if (n < 1).any():
        raise ValueError(f'effective-number weights need every class count >= 1; classes '
                         f'{torch.nonzero(n < 1).flatten().tolist()} have none')
    weights = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return (weights / weights.sum() * n.numel()).float()


def inverse_effective_number(counts: Counts, beta: float) -> torch.Tensor:
    """Unnormalised class-balanced weight ``(1 - beta) / (1 - beta^n)`` (Cui et al., CVPR 2019), elementwise.

    Unlike :func:`effective_number_weights` it is not rescaled to sum to ``C`` and ``n`` may be any positive real
    (e.g. a per-sample average count), as the Distribution-Balanced loss's ``CB`` modes use it.

    Args:
        counts: positive counts, any shape (floating counts allowed).
        beta: hyper-parameter in (0, 1).

    Returns:
        float32 tensor of the shape of ``counts``.
    """
    if not 0.0 < beta < 1.0:
        raise ValueError(f'beta must be in (0, 1), got {beta}')
    n = _float64(counts)
    if (n <= 0).any():
        raise ValueError('inverse_effective_number needs positive counts')
    return ((1.0 - beta) / (1.0 - torch.pow(beta, n))).float()


def log_prior(counts: Counts) -> torch.Tensor:
    """``log pi_j`` with ``pi = n / sum(n)``, shape (C,), float32 (computed in float64); counts must be positive."""
    n = _float64(counts)
    return torch.log(n / n.sum()).float()
