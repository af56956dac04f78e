"""Classifier heads: causal-norm (De-confound-TDE), CC-SAM (both stages), cosine, GLMC, tau-normalised, LWS, post-hoc
logit adjustment, multi-expert (RIDE, TLC's evidential fusion), ResLT, SHIKE's two-stage
classifiers."""
from .causal_norm_cls_head import CausalNormClsHead, TDEMomentumHook
from .ccsam_cls_head import CCSAMClsHead
from .cosine_cls_head import CosineClsHead
from .deit_lt_cls_head import DeiTLTClsHead
from .glmc_head import GLMCHead
from .logit_adjusted_cls_head import LogitAdjustedClsHead
from .lws_cls_head import LWSClsHead
from .multi_expert_cls_head import ExpertRouter, MultiExpertClsHead
from .reslt_head import ResLTHead
from .shike_cls_head import SHIKEClsHead
from .tau_norm_cls_head import TauNormClsHead

__all__ = ['CausalNormClsHead', 'CCSAMClsHead', 'CosineClsHead', 'DeiTLTClsHead', 'ExpertRouter', 'GLMCHead',
           'LogitAdjustedClsHead',
           'LWSClsHead', 'MultiExpertClsHead', 'ResLTHead', 'SHIKEClsHead', 'TauNormClsHead', 'TDEMomentumHook']
