"""Classifier heads: causal-norm (De-confound-TDE), cosine, tau-normalised, LWS, post-hoc logit adjustment,
multi-expert (RIDE, TLC's evidential fusion)."""
from .causal_norm_cls_head import CausalNormClsHead, TDEMomentumHook
from .cosine_cls_head import CosineClsHead
from .logit_adjusted_cls_head import LogitAdjustedClsHead
from .lws_cls_head import LWSClsHead
from .multi_expert_cls_head import ExpertRouter, MultiExpertClsHead
from .tau_norm_cls_head import TauNormClsHead

__all__ = ['CausalNormClsHead', 'CosineClsHead', 'LogitAdjustedClsHead', 'LWSClsHead', 'ExpertRouter',
           'MultiExpertClsHead', 'TauNormClsHead', 'TDEMomentumHook']
