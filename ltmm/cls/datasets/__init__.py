"""Long-tailed classification benchmarks: CIFAR-LT, ImageNet-LT, Places-LT, iNaturalist 2018; SADE's test-agnostic
splits of a balanced test set."""
from .agnostic_lt import TestAgnosticDataset
from .cifar_lt import CIFARLTDataset
from .imagenet_lt import ImageNetLTDataset, PlacesLTDataset
from .inat import INat2018Dataset

__all__ = ['CIFARLTDataset', 'ImageNetLTDataset', 'PlacesLTDataset', 'INat2018Dataset', 'TestAgnosticDataset']
