"""Parameter schedulers of official recipes that mmengine's own schedulers cannot express."""
from .paco_warmup_cosine_lr import PaCoWarmupCosineLR, paco_warmup_cosine_factor
from .paco_warmup_step_lr import PaCoWarmupStepLR, paco_warmup_step_factor
from .shike_warmup_cosine_lr import SHIKEWarmupCosineLR, shike_warmup_cosine_factor

__all__ = ['PaCoWarmupCosineLR', 'PaCoWarmupStepLR', 'SHIKEWarmupCosineLR', 'paco_warmup_cosine_factor',
           'paco_warmup_step_factor', 'shike_warmup_cosine_factor']
