"""Backbones the long-tail protocols need that mmpretrain lacks: CIFAR ResNet-32 and RIDE's multi-expert nets."""
from .resnet_cifar import ResNet32CIFAR
from .ride_resnet import RIDEResNet, RIDEResNeXt
from .shike_resnet import SHIKEResNet32

__all__ = ['ResNet32CIFAR', 'RIDEResNet', 'RIDEResNeXt', 'SHIKEResNet32']
