"""Multi-label mAP per head / medium / tail split."""
from .multilabel_shot_map import MultiLabelShotMAP, average_precision

__all__ = ['MultiLabelShotMAP', 'average_precision']
