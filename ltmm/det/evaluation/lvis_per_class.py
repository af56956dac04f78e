"""Per-category LVIS AP (ltmm's lvis-api-identical evaluator underneath), for the per-class plots (AP against
training image count)."""
from typing import Any, Dict, List, Union

from ...core.lvis_eval import run_lvis_eval


def lvis_per_class_ap(gt: Union[str, dict], results: Union[str, List[dict]],
                      iou_type: str = 'bbox') -> Dict[str, Any]:
    """Evaluate like lvis-api and also return each category's AP.

    Args:
        gt: LVIS-format ground truth (path or dict); its categories carry ``frequency`` and ``image_count``.
        results: LVIS result dicts (path to a json list, or the list).
        iou_type: 'bbox' or 'segm'.

    Returns:
        dict with ``summary`` (AP, AP50, ..., APr, APc, APf, AR@300, ...), and per category (ordered by id):
        ``names``, ``frequency``, ``image_count`` and ``ap`` (NaN where the category has no ground truth in the
        evaluated images).
    """
    out = run_lvis_eval(gt, results, iou_type)
    return dict(summary=out.summary, names=out.cat_names, frequency=out.frequency, image_count=out.image_count,
                ap=out.per_class_ap())
