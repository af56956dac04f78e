"""Exact, fast LVIS evaluation (lvis-api's numbers) and its mmdet metric."""
from ...core.lvis_eval import LVISEvalOutput, evaluate_lvis, run_lvis_eval
from .fast_lvis_metric import FastLVISMetric
from .lvis_per_class import lvis_per_class_ap

__all__ = ['FastLVISMetric', 'LVISEvalOutput', 'evaluate_lvis', 'run_lvis_eval', 'lvis_per_class_ap']
