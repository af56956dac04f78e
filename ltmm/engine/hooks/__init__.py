"""Training hooks (registered into the frameworks' HOOKS)."""
