"""Necks between the pooled feature and a contrastive loss: the projection MLPs of PaCo and GPaCo."""
from .mlp_neck import MLPNeck

__all__ = ['MLPNeck']
