from .fast_lvis_metric import FastLVISMetric
from .lvis_eval import LVISEvalOutput, evaluate_lvis, run_lvis_eval
from .multilabel_shot_map import MultiLabelShotMAP, average_precision, multilabel_splits
from .shot_accuracy import ShotAccuracy, shot_groups

__all__ = ['FastLVISMetric', 'LVISEvalOutput', 'evaluate_lvis', 'run_lvis_eval',
           'MultiLabelShotMAP', 'average_precision', 'multilabel_splits', 'ShotAccuracy', 'shot_groups']
