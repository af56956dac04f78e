"""Per-category LVIS AP with lvis-api (its numpy-2 fix is applied by ``import ltmm``), for the per-class plots
(AP against training image count)."""
import os
from typing import Any, Dict, List, Union

import numpy as np


def lvis_per_class_ap(gt: str, results: Union[str, List[dict]],
                      iou_type: str = 'bbox') -> Dict[str, Any]:
    """Run lvis-api's evaluation and also return each category's AP.

    Args:
        gt: path of the LVIS-format ground truth; its categories carry ``frequency`` and ``image_count``.
        results: LVIS result dicts (path to a json list, or the list).
        iou_type: 'bbox' or 'segm'.

    Returns:
        dict with ``summary`` (lvis-api's AP, AP50, ..., APr, APc, APf), and per category (ordered by id):
        ``names``, ``frequency``, ``image_count`` and ``ap`` (NaN where the category has no ground truth and no
        detection in the evaluated images).
    """
    from lvis import LVIS, LVISEval, LVISResults

    for path in (gt, results):
        if isinstance(path, str) and not os.path.isfile(path):
            raise FileNotFoundError(f'no such file {path!r}')
    lvis_gt = LVIS(gt)
    lvis_eval = LVISEval(lvis_gt, LVISResults(lvis_gt, results), iou_type)
    lvis_eval.run()
    precision = lvis_eval.eval['precision'][:, :, :, 0]  # (iou thr, recall thr, category), area 'all'
    ap = np.full(precision.shape[2], np.nan)
    for k in range(precision.shape[2]):
        p = precision[:, :, k]
        if (p > -1).any():
            ap[k] = p[p > -1].mean()
    cats = lvis_gt.load_cats(lvis_eval.params.cat_ids)
    return dict(summary=dict(lvis_eval.get_results()), names=[c['name'] for c in cats],
                frequency=[c['frequency'] for c in cats], image_count=[c.get('image_count', 0) for c in cats],
                ap=ap)
