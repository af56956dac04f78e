"""Long-tailed classification benchmarks: CIFAR-LT, ImageNet-LT, Places-LT, iNaturalist 2018."""
from .cifar_lt import CIFARLTDataset
from .imagenet_lt import ImageNetLTDataset, PlacesLTDataset
from .inat import INat2018Dataset

__all__ = ['CIFARLTDataset', 'ImageNetLTDataset', 'PlacesLTDataset', 'INat2018Dataset']
