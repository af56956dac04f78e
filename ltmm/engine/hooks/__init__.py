"""Training hooks (registered into the frameworks' HOOKS)."""
from .decoupled import DecoupledStageHook  # noqa: F401
from .drw_hook import DRWHook  # noqa: F401
