from . import samplers  # noqa: F401  (registration side effects)
from .digits_lt import make_digits_lt
from .long_tail import exponential_profile
from .lt_shapes import LTShapesDataset, make_lt_shapes

__all__ = ['exponential_profile', 'make_digits_lt', 'make_lt_shapes', 'LTShapesDataset']
