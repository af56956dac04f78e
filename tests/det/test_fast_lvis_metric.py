"""FastLVISMetric: the same keys and numbers as mmdet's LVISMetric, exactly the predicted images, per-class output,
and inside a CPU test run of the demo detector."""
import importlib.util
import json
import math

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch

import ltmm.det  # noqa: F401
from ltmm.core.per_class import load_per_class
from ltmm.det.evaluation import FastLVISMetric

from ..helpers import DET_CFG, REPO

_spec = importlib.util.spec_from_file_location('lvis_eval_speed', REPO / 'tools/benchmarks/lvis_eval_speed.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SPLIT = (('r', 2, 1, 10), ('c', 3, 11, 100), ('f', 3, 101, 500))
HEIGHT, WIDTH = 60, 80


@pytest.fixture
def workload(tmp_path):
    """Ground truth (json file) and mmdet-style data samples built from synthetic detections."""
    cats = bench.lvis_v1_categories(np.random.default_rng(0), SPLIT)
    gt, _, segm_dets = bench.make_lvis_workload(8, categories=cats, dets_per_image=25, seed=3,
                                                image_size=(HEIGHT, WIDTH), score_decimals=2)
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(gt))
    label = {c['id']: i for i, c in enumerate(gt['categories'])}
    samples = []
    for img in gt['images']:
        dets = [d for d in segm_dets if d['image_id'] == img['id']]
        boxes = torch.tensor([d['bbox'] for d in dets], dtype=torch.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        masks = mask_utils.decode([d['segmentation'] for d in dets]) if dets else np.zeros((HEIGHT, WIDTH, 0))
        samples.append(dict(img_id=img['id'], ori_shape=(HEIGHT, WIDTH), pred_instances=dict(
            bboxes=boxes, scores=torch.tensor([d['score'] for d in dets]),
            labels=torch.tensor([label[d['category_id']] for d in dets], dtype=torch.long),
            masks=torch.from_numpy(masks.transpose(2, 0, 1).astype(bool)))))
    return gt, gt_file, samples


def evaluate(metric, samples):
    for i in range(0, len(samples), 3):
        metric.process({}, samples[i:i + 3])
    return metric.evaluate(len(samples))


def assert_same(got, expected):
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert got[key] == value or (math.isnan(got[key]) and math.isnan(value)), key


def test_same_keys_and_numbers_as_mmdet_lvis_metric(workload, tmp_path):
    from mmdet.evaluation import LVISMetric

    _, gt_file, samples = workload
    kwargs = dict(ann_file=str(gt_file), metric=['bbox', 'segm'], classwise=True)
    expected = evaluate(LVISMetric(**kwargs), samples)
    got = evaluate(FastLVISMetric(per_class_dir='', **kwargs), samples)
    assert 'lvis/bbox_APr' in got and 'lvis/segm_APf' in got and got['lvis/bbox_AP'] > 0.05
    assert_same(got, expected)


def test_evaluates_exactly_the_predicted_images(workload, tmp_path):
    from mmdet.evaluation import LVISMetric

    gt, gt_file, samples = workload
    subset = samples[:5]
    ids = {s['img_id'] for s in subset}
    sub_file = tmp_path / 'subset.json'
    sub_file.write_text(json.dumps(dict(gt, images=[im for im in gt['images'] if im['id'] in ids],
                                        annotations=[a for a in gt['annotations'] if a['image_id'] in ids])))
    expected = evaluate(LVISMetric(ann_file=str(sub_file)), subset)
    assert_same(evaluate(FastLVISMetric(ann_file=str(gt_file), per_class_dir=''), subset), expected)
    # mmdet's LVISMetric on the full ground truth scores the 3 images not run as misses
    assert evaluate(LVISMetric(ann_file=str(gt_file)), subset)['lvis/bbox_AP'] < expected['lvis/bbox_AP']

    with pytest.raises(ValueError, match=r"images='all'\): 3 of the 8 images .* were not predicted"):
        evaluate(FastLVISMetric(ann_file=str(gt_file), images='all', per_class_dir=''), subset)


def test_repeated_images_from_padded_ranks_count_once(workload):
    _, gt_file, samples = workload
    once = evaluate(FastLVISMetric(ann_file=str(gt_file), per_class_dir=''), samples)
    metric = FastLVISMetric(ann_file=str(gt_file), per_class_dir='')
    metric.process({}, samples + samples[:2])
    assert_same(metric.compute_metrics(metric.results), {k.split('/')[1]: v for k, v in once.items()})


def test_unknown_image_is_named(workload):
    _, gt_file, samples = workload
    bad = dict(samples[0], img_id=4242)
    with pytest.raises(ValueError, match='image id 4242 was predicted but is not in'):
        evaluate(FastLVISMetric(ann_file=str(gt_file), per_class_dir=''), [bad] + samples[1:])


def test_bad_arguments():
    with pytest.raises(ValueError, match="metric must be 'bbox' or 'segm', got 'proposal'"):
        FastLVISMetric(ann_file='x.json', metric='proposal')
    with pytest.raises(ValueError, match='format_only needs outfile_prefix'):
        FastLVISMetric(ann_file='x.json', format_only=True)


def test_writes_per_class_json_png_and_result_files(workload, tmp_path):
    _, gt_file, samples = workload
    metric = FastLVISMetric(ann_file=str(gt_file), metric=['bbox', 'segm'], per_class_dir=str(tmp_path / 'pc'),
                            outfile_prefix=str(tmp_path / 'results'))
    got = evaluate(metric, samples)
    for iou in ('bbox', 'segm'):
        data = load_per_class(str(tmp_path / 'pc' / f'per_class_{iou}_ap.json'))
        assert data['grouping'] == 'lvis' and data['group'][:2] == ['r', 'r'] and len(data['value']) == 8
        assert data['summary']['AP'] == pytest.approx(got[f'lvis/{iou}_AP'], abs=5e-4)
        assert (tmp_path / 'pc' / f'per_class_{iou}_ap.png').read_bytes()[:4] == b'\x89PNG'
        results = json.loads((tmp_path / f'results.{iou}.json').read_text())
        assert len(results) == sum(len(s['pred_instances']['scores']) for s in samples)


@pytest.mark.slow
def test_inside_a_cpu_test_run(det_workspace, tmp_path, monkeypatch):
    """The demo detector (untrained) tested with FastLVISMetric beside mmdet's LVISMetric: identical numbers."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    monkeypatch.chdir(det_workspace)
    cfg = Config.fromfile(DET_CFG)
    ann_file = 'data/lt_shapes/annotations/lt_shapes_val.json'
    cfg.work_dir = str(tmp_path / 'work')
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.test_evaluator = [dict(type='FastLVISMetric', ann_file=ann_file, metric=['bbox', 'segm'], prefix='fast'),
                          dict(type='LVISMetric', ann_file=ann_file, metric=['bbox', 'segm'])]
    metrics = Runner.from_cfg(cfg).test()
    for key in ('bbox_AP', 'bbox_APr', 'bbox_APc', 'bbox_APf', 'segm_AP', 'segm_APf'):
        assert metrics[f'fast/{key}'] == metrics[f'lvis/{key}'], key
    per_class = list((tmp_path / 'work').rglob('per_class_segm_ap.json'))
    assert len(per_class) == 1 and len(load_per_class(str(per_class[0]))['value']) == 30


def _rank_worker(rank, port, gt_file, samples, out_file):
    """One of 2 gloo ranks: each processes every other image, as a distributed sampler does."""
    import torch.distributed as dist

    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        metric = FastLVISMetric(ann_file=gt_file, metric=['bbox', 'segm'], per_class_dir='')
        metric.process({}, samples[rank::2])
        got = metric.evaluate(len(samples))
        if rank == 0:
            with open(out_file, 'w') as f:
                json.dump(got, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_results_are_collected_across_ranks(workload, tmp_path):
    from ..helpers import free_port

    _, gt_file, samples = workload
    expected = evaluate(FastLVISMetric(ann_file=str(gt_file), metric=['bbox', 'segm'], per_class_dir=''), samples)
    out_file = tmp_path / 'rank0.json'
    torch.multiprocessing.spawn(_rank_worker, args=(free_port(), str(gt_file), samples, str(out_file)), nprocs=2)
    assert_same(json.loads(out_file.read_text()), expected)
