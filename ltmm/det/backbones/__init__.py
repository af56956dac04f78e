"""Backbones: the SE-ResNet with APA / AGLU activations (``SEResNetAGLU``)."""
from .se_resnet_aglu import SEResNetAGLU

__all__ = ['SEResNetAGLU']
