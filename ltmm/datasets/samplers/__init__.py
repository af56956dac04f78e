"""Samplers (registered into mmengine's DATA_SAMPLERS via the frameworks' registries)."""
