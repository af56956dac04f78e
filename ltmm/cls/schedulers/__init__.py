"""Parameter schedulers of official recipes that mmengine's own schedulers cannot express."""
from .paco_warmup_cosine_lr import PaCoWarmupCosineLR, paco_warmup_cosine_factor

__all__ = ['PaCoWarmupCosineLR', 'paco_warmup_cosine_factor']
