"""Bbox heads: ROG's (Shared2FC plus the global ranking loss)."""
from .rog_bbox_head import ROGShared2FCBBoxHead

__all__ = ['ROGShared2FCBBoxHead']
