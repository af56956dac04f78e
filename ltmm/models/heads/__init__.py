"""Long-tail classifier heads (mmpretrain) and bbox heads (mmdet)."""
from .cosine_cls_head import CosineClsHead  # noqa: F401
from .logit_adjusted_cls_head import LogitAdjustedClsHead  # noqa: F401
from .lws_cls_head import LWSClsHead  # noqa: F401
from .multi_expert_cls_head import MultiExpertClsHead  # noqa: F401
from .rog_bbox_head import ROGShared2FCBBoxHead  # noqa: F401
from .tau_norm_cls_head import TauNormClsHead  # noqa: F401
