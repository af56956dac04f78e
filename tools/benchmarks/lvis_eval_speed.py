"""LVIS evaluation speed and memory: lvis-api 0.5.3, faster-coco-eval (LVIS mode) and ltmm's ``evaluate_lvis`` side by
side on a synthetic LVIS-v1-scale workload, over several sizes.

    python tools/benchmarks/lvis_eval_speed.py                                   # N = 500, 1000, 2000; bbox and segm
    python tools/benchmarks/lvis_eval_speed.py --num-images 200 --iou-types bbox --evaluators lvis-api ltmm
    python tools/benchmarks/lvis_eval_speed.py --num-images 2000 --repeat 3                 # medians of 3 runs

The workload has the 1,203 LVIS v1 categories with the real rare / common / frequent split (337 / 461 / 405,
``image_count`` in 1-10 / 11-100 / 101-1977), and per image ~12 ground-truth objects of a few categories (polygons),
6 negative categories, sometimes a not-exhaustive one, and 300 detections (jittered copies of the objects and random
boxes of present, negative and unrelated categories; segm results are RLE with a box, as mmdet writes them). Each
evaluator runs in its own fresh process from the same json files (loading included; ``ltmm-arrays`` is the in-process
path of ``FastLVISMetric``, predictions already in memory); the table gives the wall time, the peak resident memory
(``VmHWM``), the largest difference of each metric dict from lvis-api's and ltmm's speed-up over the others.
faster-coco-eval is not a dependency (``pip install faster-coco-eval==1.8.0`` for this benchmark); it is not exact:
no 300-per-image cap across categories, zero-area ground truth kept, ``ignore`` overwritten by ``iscrowd``.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

LVIS_V1_SPLIT = (('r', 337, 1, 10), ('c', 461, 11, 100), ('f', 405, 101, 1977))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lvis_v1_categories(rng: np.random.Generator,
                       split: Sequence[Tuple[str, int, int, int]] = LVIS_V1_SPLIT) -> List[dict]:
    """Categories with LVIS v1's frequency split: (frequency, how many, min and max training images)."""
    cats = []
    for freq, num, low, high in split:
        for count in rng.integers(low, high + 1, num):
            cats.append(dict(id=len(cats) + 1, name=f'{freq}{len(cats) + 1}', frequency=freq,
                             image_count=int(count)))
    return cats


def _octagon(boxes: np.ndarray) -> np.ndarray:
    """(N, 16) polygons: each [x, y, w, h] box with its corners cut by a quarter of the side."""
    x, y, w, h = boxes.T
    cx, cy = w / 4, h / 4
    return np.stack([x + cx, y, x + w - cx, y, x + w, y + cy, x + w, y + h - cy, x + w - cx, y + h, x + cx, y + h,
                     x, y + h - cy, x, y + cy], 1)


def make_lvis_workload(num_images: int, categories: Optional[List[dict]] = None, gt_per_image: int = 12,
                       dets_per_image: int = 300, segm: bool = True, seed: int = 0,
                       image_size: Tuple[int, int] = (480, 640), num_neg: int = 6, not_exhaustive_prob: float = 0.3,
                       ignore_prob: float = 0.0, zero_area_prob: float = 0.0, score_decimals: Optional[int] = None,
                       empty_image_prob: float = 0.0) -> Tuple[dict, List[dict], List[dict]]:
    """A synthetic LVIS-format ground truth and detections.

    Args:
        num_images: images.
        categories: LVIS categories (default: the 1,203 of :func:`lvis_v1_categories`).
        gt_per_image: mean ground-truth objects per image (Poisson, at least 1).
        dets_per_image: detections per image (some images get more, so the 300 cap matters).
        segm: also make polygon ground truth and RLE detections (the second list).
        seed: random seed.
        image_size: (height, width).
        num_neg: negative categories per image.
        not_exhaustive_prob: chance that one present category of an image is marked not exhaustive.
        ignore_prob: chance that a ground-truth object has ``ignore: 1``.
        zero_area_prob: chance that a ground-truth object or a detection has zero area (lvis-api drops them).
        score_decimals: round scores (creates ties) when given.
        empty_image_prob: chance that an image has no detection.

    Returns:
        (ground truth dict, bbox results, segm results: the same detections with an RLE ``segmentation``).
    """
    import pycocotools.mask as mask_utils

    rng = np.random.default_rng(seed)
    cats = categories if categories is not None else lvis_v1_categories(rng)
    cat_ids = np.array([c['id'] for c in cats])
    weight = np.array([{'r': 1.0, 'c': 4.0, 'f': 30.0}[c['frequency']] for c in cats])
    weight /= weight.sum()
    height, width = image_size
    images, anns, dets, segm_dets = [], [], [], []
    for img_id in range(1, num_images + 1):
        num_gt = max(1, int(rng.poisson(gt_per_image)))
        present = rng.choice(cat_ids, size=min(len(cats), int(rng.integers(1, 6))), replace=False, p=weight)
        others = np.setdiff1d(cat_ids, present)
        neg = rng.choice(others, size=min(num_neg, len(others)), replace=False)
        not_exhaustive = [int(rng.choice(present))] if rng.random() < not_exhaustive_prob else []
        images.append(dict(id=img_id, height=height, width=width, neg_category_ids=neg.tolist(),
                           not_exhaustive_category_ids=not_exhaustive))
        # ground truth: log-uniform sizes 6-300 px, so small, medium and large all occur
        wh = np.exp(rng.uniform(np.log(6), np.log(300), (num_gt, 2)))
        xy = rng.uniform(0, 1, (num_gt, 2)) * np.maximum([width, height] - wh, 1)
        boxes = np.round(np.concatenate([xy, wh], 1), 2)
        boxes[rng.random(num_gt) < zero_area_prob, 2] = 0
        gt_cat = rng.choice(present, num_gt)
        polys = _octagon(boxes)
        for b, c, poly in zip(boxes, gt_cat, polys):
            ann = dict(id=len(anns) + 1, image_id=img_id, category_id=int(c), bbox=b.tolist(),
                       area=float(b[2] * b[3] * 0.875), segmentation=[np.round(poly, 2).tolist()])
            if rng.random() < ignore_prob:
                ann['ignore'] = 1
            anns.append(ann)
        if rng.random() < empty_image_prob:
            continue
        # detections: jittered copies of the objects (right or confused category), plus random boxes
        n_det = dets_per_image + (int(rng.integers(1, 40)) if rng.random() < 0.2 else 0)
        n_copy = min(n_det // 2, 8 * num_gt)
        src = rng.integers(0, num_gt, n_copy)
        jitter = boxes[src] + rng.normal(0, 1, (n_copy, 4)) * np.maximum(boxes[src, 2:3], 2) * 0.15
        copy_cat = np.where(rng.random(n_copy) < 0.7, gt_cat[src], rng.choice(np.r_[present, neg], n_copy))
        n_rand = n_det - n_copy
        rwh = np.exp(rng.uniform(np.log(6), np.log(300), (n_rand, 2)))
        rxy = rng.uniform(0, 1, (n_rand, 2)) * np.maximum([width, height] - rwh, 1)
        pool = rng.random(n_rand)
        rand_cat = np.where(pool < 0.3, rng.choice(np.r_[present, neg], n_rand), rng.choice(cat_ids, n_rand))
        det_boxes = np.concatenate([jitter, np.concatenate([rxy, rwh], 1)])
        det_boxes[:, 2:] = np.abs(det_boxes[:, 2:])
        det_boxes = np.round(det_boxes, 2)
        det_boxes[rng.random(n_det) < zero_area_prob, 3] = 0
        det_cat = np.r_[copy_cat, rand_cat]
        score = np.r_[rng.uniform(0.2, 1.0, n_copy), rng.uniform(0.0, 0.6, n_rand)]
        if score_decimals is not None:
            score = np.round(score, score_decimals)
        order = rng.permutation(n_det)
        det_boxes, det_cat, score = det_boxes[order], det_cat[order], score[order]
        rles = mask_utils.frPyObjects([[max(v, 0.0) for v in p] for p in _octagon(det_boxes).tolist()],
                                      height, width) if segm else []
        for i in range(n_det):
            det = dict(image_id=img_id, category_id=int(det_cat[i]), bbox=det_boxes[i].tolist(),
                       score=float(score[i]))
            dets.append(det)
            if segm:
                segm_dets.append(dict(det, segmentation=dict(size=rles[i]['size'],
                                                             counts=rles[i]['counts'].decode('ascii'))))
    return dict(images=images, annotations=anns, categories=cats), dets, segm_dets


def write_lvis_workload(files: Dict[str, str], num_images: int, segm: bool = True, seed: int = 0,
                        block: int = 2000) -> Tuple[int, int, int]:
    """:func:`make_lvis_workload` written to ``files['gt']``, ``files['bbox']`` and ``files['segm']``, made and
    written ``block`` images at a time (the results of a full LVIS val-sized workload do not fit in memory as
    dicts); up to ``block`` images it is exactly ``make_lvis_workload(num_images, segm=segm, seed=seed)``, beyond it
    block ``b`` uses seed ``seed + 1 + b`` on the categories of ``seed``. Returns (categories, objects, detections).
    """
    if num_images <= block:
        gt, dets, segm_dets = make_lvis_workload(num_images, segm=segm, seed=seed)
        for key, data in (('gt', gt), ('bbox', dets), ('segm', segm_dets)):
            with open(files[key], 'w') as f:
                json.dump(data, f)
        return len(gt['categories']), len(gt['annotations']), len(dets)
    cats = lvis_v1_categories(np.random.default_rng(seed))
    images, anns, num_dets = [], [], 0
    outs = {key: open(files[key], 'w') for key in ('bbox', 'segm')}
    try:
        for b, first in enumerate(range(0, num_images, block)):
            gt, dets, segm_dets = make_lvis_workload(min(block, num_images - first), cats, segm=segm,
                                                     seed=seed + 1 + b)
            for img in gt['images']:
                img['id'] += first
            for ann in gt['annotations']:
                ann['id'] += len(anns)
                ann['image_id'] += first
            images += gt['images']
            anns += gt['annotations']
            for key, data in (('bbox', dets), ('segm', segm_dets)):
                for det in data:
                    det['image_id'] += first
                text = json.dumps(data)[1:-1]
                if text:
                    outs[key].write(('[' if num_dets == 0 else ', ') + text)
            num_dets += len(dets)
        for out in outs.values():
            out.write(']' if num_dets else '[]')
    finally:
        for out in outs.values():
            out.close()
    with open(files['gt'], 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return len(cats), len(anns), num_dets


EVALUATORS = ('lvis-api', 'faster-coco-eval', 'ltmm', 'ltmm-arrays')


def _status_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process from /proc/self/status. Not ``ru_maxrss``: Linux keeps it
    across fork and exec, so a worker would report the benchmark's own peak (its workload) as its own."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':')) / 1024


def _faster_coco_eval(gt: str, results: str, iou_type: str) -> Dict[str, float]:
    """faster-coco-eval's LVIS mode, its metrics renamed as lvis-api's (not exact: see the module docstring)."""
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(gt)
    evaluator = COCOeval_faster(coco_gt, coco_gt.loadRes(results), iou_type, lvis_style=True,
                                print_function=lambda *args: None)
    evaluator.params.maxDets = [300]
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    stats = evaluator.stats_as_dict
    names = dict(AP='AP_all', AP50='AP_50', AP75='AP_75', APs='AP_small', APm='AP_medium', APl='AP_large',
                 APr='APr', APc='APc', APf='APf', **{'AR@300': 'AR_all', 'ARs@300': 'AR_small',
                                                    'ARm@300': 'AR_medium', 'ARl@300': 'AR_large'})
    return {ours: float(stats[theirs]) for ours, theirs in names.items()}


def worker(name: str, gt: str, results: str, iou_type: str, out: str) -> None:
    """Evaluate in this (fresh) process; write metrics, wall time and memory to ``out``. 'ltmm-arrays' times the
    in-process path of ``FastLVISMetric``: ground truth and predictions already loaded as columns."""
    evaluate: Callable[[], Dict[str, float]]
    if name == 'lvis-api':
        from lvis import LVIS, LVISEval, LVISResults
        np.float = float  # lvis 0.5.3 needs the alias (numpy >= 1.24); this process only runs the benchmark

        def evaluate() -> Dict[str, float]:
            lvis_gt = LVIS(gt)
            lvis_eval = LVISEval(lvis_gt, LVISResults(lvis_gt, results), iou_type)
            lvis_eval.run()
            return {k: float(v) for k, v in lvis_eval.get_results().items()}
    elif name == 'faster-coco-eval':
        def evaluate() -> Dict[str, float]:
            return _faster_coco_eval(gt, results, iou_type)
    else:
        from ltmm.core.lvis_eval import evaluate_lvis, read_result_columns

        if name == 'ltmm':
            def evaluate() -> Dict[str, float]:
                return evaluate_lvis(gt, results, iou_type)
        else:
            with open(gt) as f:
                gt_data = json.load(f)
            img, cat, score, boxes, segms = read_result_columns(results, iou_type)
            columns = dict(image_id=img, category_id=cat, score=score, bbox=boxes)
            if segms is not None:
                columns['segmentation'] = [dict(size=[h, w], counts=c) for h, w, c in segms]

            def evaluate() -> Dict[str, float]:
                return evaluate_lvis(gt_data, columns, iou_type)
    base = _status_mib('VmRSS')
    start = time.perf_counter()
    metrics = evaluate()
    seconds = time.perf_counter() - start
    peak = _status_mib('VmHWM')
    with open(out, 'w') as f:
        json.dump(dict(metrics=metrics, seconds=seconds, peak_mib=peak, base_mib=base), f)


def _run_worker(name: str, gt: str, results: str, iou_type: str, tmp: str) -> dict:
    out = os.path.join(tmp, f'{name}_{iou_type}.json')
    subprocess.run([sys.executable, __file__, '--worker', name, gt, results, iou_type, out], check=True)
    with open(out) as f:
        return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--num-images', type=int, nargs='+', default=[500, 1000, 2000])
    parser.add_argument('--iou-types', nargs='+', choices=['bbox', 'segm'], default=['bbox', 'segm'])
    parser.add_argument('--evaluators', nargs='+', choices=EVALUATORS, default=list(EVALUATORS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs of each evaluator (in rounds over all of them): the median time, the largest peak')
    parser.add_argument('--worker', nargs=5, help=argparse.SUPPRESS)  # NAME GT RESULTS IOU_TYPE OUT
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    from tqdm import tqdm

    evaluators = list(args.evaluators)
    if 'faster-coco-eval' in evaluators and importlib.util.find_spec('faster_coco_eval') is None:
        print('faster-coco-eval is not installed (pip install faster-coco-eval==1.8.0, for this benchmark only): '
              'left out')
        evaluators.remove('faster-coco-eval')
    res: Dict[Tuple[str, int, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.num_images:
            start = time.perf_counter()
            files = {'gt': os.path.join(tmp, 'gt.json'), 'bbox': os.path.join(tmp, 'bbox.json'),
                     'segm': os.path.join(tmp, 'segm.json')}
            num_cats, num_objects, num_dets = write_lvis_workload(files, n, 'segm' in args.iou_types, args.seed)
            print(f'workload: {n} images, {num_cats} categories, {num_objects} objects, {num_dets} detections '
                  f'({time.perf_counter() - start:.0f} s to generate)', flush=True)
            jobs = [(iou, name) for _ in range(args.repeat) for iou in args.iou_types for name in evaluators]
            for iou, name in tqdm(jobs, desc=f'N = {n}'):
                res.setdefault((iou, n, name), []).append(_run_worker(name, files['gt'], files[iou], iou, tmp))
    runs = f'the median of {args.repeat} runs' if args.repeat > 1 else 'one run'
    print(f'\nseconds ({runs}), peak RSS MiB (the largest), largest metric difference from lvis-api; ltmm-arrays: '
          'predictions already in memory (FastLVISMetric)\n')
    pairs = [(ours, name) for ours in evaluators if ours.startswith('ltmm')
             for name in evaluators if not name.startswith('ltmm')]
    print('| iou | N | ' + ' | '.join(evaluators + [f'{ours} vs {name}' for ours, name in pairs]) + ' |')
    print('|---' * (2 + len(evaluators) + len(pairs)) + '|')
    for iou in args.iou_types:
        for n in args.num_images:
            seconds = {name: float(np.median([r['seconds'] for r in res[iou, n, name]])) for name in evaluators}
            ref = res.get((iou, n, 'lvis-api'))
            cells = []
            for name in evaluators:
                diff = (', diff {:.1e}'.format(max(abs(ref[0]['metrics'][k] - r['metrics'][k])
                                                   for r in res[iou, n, name] for k in ref[0]['metrics']))
                        if ref is not None and name != 'lvis-api' else '')
                peak = max(r['peak_mib'] for r in res[iou, n, name])
                cells.append(f'{seconds[name]:.1f} s, {peak:.0f} MiB{diff}')
            ratios = [f'{seconds[name] / seconds[ours]:.1f}x' for ours, name in pairs]
            print(f'| {iou} | {n} | ' + ' | '.join(cells + ratios) + ' |')


if __name__ == '__main__':
    main()
