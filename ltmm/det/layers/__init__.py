"""Layers of the LVIS recipes: the learnable-temperature NormedConv2d mask predictor (APA, FRACAL)."""
from .learnable_temp_normed_conv2d import LearnableTempNormedConv2d

__all__ = ['LearnableTempNormedConv2d']
