from .per_class import plot_per_class

__all__ = ['plot_per_class']
