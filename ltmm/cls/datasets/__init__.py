"""Long-tailed classification benchmarks: CIFAR-LT, ImageNet-LT, Places-LT, iNaturalist 2018; the wrapper that
loads (sample, partner) pairs; SADE's test-agnostic splits of a balanced test set; a class subset with
renumbered labels (LFME's experts); transforms of official recipes
that mmpretrain's cannot express."""
from .agnostic_lt import TestAgnosticDataset
from .cifar_lt import CIFARLTDataset
from .class_subset import ClassSubsetDataset
from .imagenet_lt import ImageNetLTDataset, PlacesLTDataset
from .inat import INat2018Dataset
from .paired_dataset import PairedDataset
from .transforms import FloorPosterize

__all__ = ['CIFARLTDataset', 'ClassSubsetDataset', 'FloorPosterize', 'ImageNetLTDataset', 'PlacesLTDataset',
           'INat2018Dataset', 'PairedDataset', 'TestAgnosticDataset']
