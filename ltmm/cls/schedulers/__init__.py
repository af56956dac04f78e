"""Parameter schedulers of official recipes that mmengine's own schedulers cannot express."""
from .paco_warmup_cosine_lr import PaCoWarmupCosineLR, paco_warmup_cosine_factor
from .paco_warmup_step_lr import PaCoWarmupStepLR, paco_warmup_step_factor

__all__ = ['PaCoWarmupCosineLR', 'PaCoWarmupStepLR', 'paco_warmup_cosine_factor', 'paco_warmup_step_factor']
