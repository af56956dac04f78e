"""Detection datasets: LT-Shapes (mmdet's LVIS datasets serve LVIS)."""
from .lt_shapes import LTShapesDataset

__all__ = ['LTShapesDataset']
