"""Bbox heads: ROG's (Shared2FC plus the global ranking loss) and ``CalibratedBBoxHead`` (any bbox head with
post-hoc calibrated test scores: FRACAL, NorCal)."""
from .calibrated_bbox_head import calibrated_bbox_head
from .rog_bbox_head import ROGShared2FCBBoxHead

__all__ = ['ROGShared2FCBBoxHead', 'calibrated_bbox_head']
