"""Backbones the long-tail protocols need that mmpretrain lacks."""
from .resnet_cifar import ResNet32CIFAR

__all__ = ['ResNet32CIFAR']
