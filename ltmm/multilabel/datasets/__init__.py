"""Multi-label list datasets: VOC-LT, COCO-MLT, LT-Shapes multi-label."""
from .multilabel_lt import COCOMLTDataset, LTShapesMultiLabelDataset, MultiLabelListDataset, VOCLTDataset

__all__ = ['COCOMLTDataset', 'LTShapesMultiLabelDataset', 'MultiLabelListDataset', 'VOCLTDataset']
