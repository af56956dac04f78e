"""Class-driven samplers (single- and multi-label), registered into mmpretrain's DATA_SAMPLERS."""
from .class_aware_sampler import ClassAwareSampler
from .power_sampler import PowerSampler

__all__ = ['ClassAwareSampler', 'PowerSampler']
