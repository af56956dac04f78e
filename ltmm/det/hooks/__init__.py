"""Training hooks: ``FreezeAllButHook`` (the classifier-only stage of decoupled detection recipes, BAGS)."""
from .freeze_all_but_hook import FreezeAllButHook

__all__ = ['FreezeAllButHook']
