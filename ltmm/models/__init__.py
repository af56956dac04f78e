from . import heads, losses  # noqa: F401  (registration side effects)
