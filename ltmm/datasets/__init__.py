from . import samplers  # noqa: F401  (registration side effects)
from .cifar_lt import CIFARLTDataset
from .digits_lt import make_digits_lt
from .imagenet_lt import ImageNetLTDataset, PlacesLTDataset
from .inat import INat2018Dataset
from .long_tail import exponential_profile
from .lt_shapes import LTShapesDataset, make_lt_shapes
from .multilabel_lt import (COCOMLTDataset, LTShapesMultiLabelDataset, MultiLabelListDataset, VOCLTDataset,
                           read_multilabel_list)

__all__ = ['CIFARLTDataset', 'ImageNetLTDataset', 'PlacesLTDataset', 'INat2018Dataset',
           'exponential_profile', 'make_digits_lt', 'make_lt_shapes', 'LTShapesDataset',
           'COCOMLTDataset', 'LTShapesMultiLabelDataset', 'MultiLabelListDataset', 'VOCLTDataset',
           'read_multilabel_list']
