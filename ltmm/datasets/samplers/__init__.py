"""Samplers (registered into mmengine's DATA_SAMPLERS via the frameworks' registries)."""
from .class_aware_sampler import ClassAwareSampler
from .power_sampler import PowerSampler

__all__ = ['ClassAwareSampler', 'PowerSampler']
