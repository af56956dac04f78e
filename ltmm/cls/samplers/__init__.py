"""Class-driven samplers (single- and multi-label) and the partner stream of paired training,
registered into mmpretrain's DATA_SAMPLERS."""
from .class_aware_sampler import ClassAwareSampler
from .deferred_resampler import DeferredResampler
from .partner_sampler import PartnerSampler
from .power_sampler import PowerSampler

__all__ = ['ClassAwareSampler', 'DeferredResampler', 'PartnerSampler', 'PowerSampler']
