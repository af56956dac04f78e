"""Backbones the long-tail protocols need that mmpretrain lacks: CIFAR ResNet-32, OLTR / LFME's ResNet-10 and RIDE's
multi-expert nets."""
from .resnet10 import ResNet10
from .resnet_cifar import ResNet32CIFAR
from .ride_resnet import RIDEResNet, RIDEResNeXt
from .shike_resnet import SHIKEResNet32

__all__ = ['ResNet10', 'ResNet32CIFAR', 'RIDEResNet', 'RIDEResNeXt', 'SHIKEResNet32']
