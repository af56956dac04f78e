"""ltmm.core.lvis_eval.evaluate_lvis: identical to lvis-api 0.5.3 (the reference), federated rules, the 300 cap,
errors."""
import copy
import importlib.util
import json

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from ltmm.core.compat import patch_lvis_eval
from ltmm.core.lvis_eval import evaluate_lvis, run_lvis_eval

from ..helpers import REPO

patch_lvis_eval()  # lvis-api's accumulate needs a local np.float
_spec = importlib.util.spec_from_file_location('lvis_eval_speed', REPO / 'tools/benchmarks/lvis_eval_speed.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def categories(split, seed=0):
    """Small category tables: split = ((frequency, how many, min, max training images), ...)."""
    return bench.lvis_v1_categories(np.random.default_rng(seed), split)


SMALL = (('r', 3, 1, 10), ('c', 4, 11, 100), ('f', 4, 101, 500))


def lvis_api(gt, results, iou_type, tmp_path):
    """lvis-api's LVISEval on the same input (from files, as users run it)."""
    from lvis import LVIS, LVISEval, LVISResults

    gt_file = tmp_path / 'gt_ref.json'
    gt_file.write_text(json.dumps(gt))
    lvis_gt = LVIS(str(gt_file))
    lvis_eval = LVISEval(lvis_gt, LVISResults(lvis_gt, copy.deepcopy(results)), iou_type)
    lvis_eval.run()
    return {k: float(v) for k, v in lvis_eval.get_results().items()}, lvis_eval


def assert_identical(gt, results, iou_type, tmp_path, **kwargs):
    """lvis-api's numbers from the loaded objects and from json files (the streaming reader)."""
    ref, ref_eval = lvis_api(gt, results, iou_type, tmp_path)
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'results.json').write_text(json.dumps(results))
    for out in (run_lvis_eval(gt, results, iou_type, **kwargs),
                run_lvis_eval(tmp_path / 'gt.json', str(tmp_path / 'results.json'), iou_type, **kwargs)):
        assert out.summary == ref, iou_type
        np.testing.assert_array_equal(out.precision, ref_eval.eval['precision'])
        np.testing.assert_array_equal(out.recall, ref_eval.eval['recall'])
    return out


def uncompressed(rle):
    """A compressed RLE as lvis-api also accepts it: ``counts`` the list of run lengths."""
    h, w = rle['size']
    mask = mask_utils.decode(dict(rle, counts=rle['counts'].encode()))
    flat = np.asfortranarray(mask).reshape(-1, order='F')
    change = np.flatnonzero(np.diff(np.r_[0, flat, 1 - flat[-1]])) if flat.size else np.zeros(0, int)
    counts = np.diff(np.r_[0, change]).tolist()
    return dict(size=[h, w], counts=counts)


WORKLOADS = {
    'plain': dict(num_images=12, categories=categories(SMALL), dets_per_image=60, seed=1),
    # equal scores (ties broken by image then file order), ignore flags, zero areas, images without detections
    'ties_ignore_zero_area_empty_images': dict(num_images=15, categories=categories(SMALL, 1), dets_per_image=40,
                                               seed=2, score_decimals=1, ignore_prob=0.2, zero_area_prob=0.05,
                                               empty_image_prob=0.25),
    # no rare category at all: APr is -1 in both
    'empty_rare_group': dict(num_images=10, categories=categories((('c', 3, 11, 100), ('f', 3, 101, 300)), 2),
                             dets_per_image=30, seed=3),
    # every image has a not-exhaustive category and most categories are negative somewhere
    'federated': dict(num_images=12, categories=categories(SMALL, 3), dets_per_image=50, seed=4, num_neg=5,
                      not_exhaustive_prob=1.0),
    # more than 300 detections in every image: the per-image cap across categories decides
    'over_300_per_image': dict(num_images=4, categories=categories(SMALL, 4), dets_per_image=340, seed=5,
                               score_decimals=2),
}


@pytest.mark.parametrize('name', sorted(WORKLOADS))
def test_identical_to_lvis_api(name, tmp_path):
    gt, dets, segm_dets = bench.make_lvis_workload(**WORKLOADS[name])
    for iou_type, results in (('bbox', dets), ('segm', segm_dets)):
        out = assert_identical(gt, results, iou_type, tmp_path)
        if name == 'empty_rare_group':
            assert out.summary['APr'] == -1.0 and out.summary['APc'] > 0
        else:
            assert out.summary['AP'] > 0.05  # the workload has real matches


def test_mask_ious_in_two_processes_and_scattered_masks(monkeypatch, tmp_path):
    """The mask IoUs of many pair blocks, every second block in a forked child; masks gathered from far apart in the
    result column (as from a file not ordered by image): still lvis-api's numbers."""
    from ltmm.core import lvis_eval

    monkeypatch.setattr(lvis_eval, 'EVAL_THREADS', 2)
    monkeypatch.setattr(lvis_eval, 'PAIR_BLOCK', 3)
    monkeypatch.setattr(lvis_eval, 'SPAN_SLACK', 0)
    gt, _, segm_dets = bench.make_lvis_workload(**WORKLOADS['plain'])
    segm_dets = segm_dets[::-1]  # images in the reverse order of the ground truth's
    forks = []
    fork = lvis_eval.os.fork
    monkeypatch.setattr(lvis_eval.os, 'fork', lambda: forks.append(1) or fork())
    assert_identical(gt, segm_dets, 'segm', tmp_path)
    assert forks


def test_a_failing_child_process_leaves_its_blocks_to_the_parent(monkeypatch):
    from ltmm.core import lvis_eval

    monkeypatch.setattr(lvis_eval, 'EVAL_THREADS', 2)
    parent = lvis_eval.os.getpid()

    def fill(item, out):
        if lvis_eval.os.getpid() != parent:
            raise RuntimeError('the child fails')
        out[item:item + 2] = item

    out = lvis_eval._in_two_processes([0, 2, 4, 6], fill, 8)
    np.testing.assert_array_equal(out, [0, 0, 2, 2, 4, 4, 6, 6])


def test_a_child_reaped_by_the_host_program_leaves_its_blocks_to_the_parent(monkeypatch):
    """A program that ignores SIGCHLD has its children reaped at exit: waitpid fails, and the parent fills their
    items itself."""
    import signal

    from ltmm.core import lvis_eval

    monkeypatch.setattr(lvis_eval, 'EVAL_THREADS', 2)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        out = lvis_eval._in_two_processes([0, 1, 2], lambda item, out: out.__setitem__(item, item + 1), 3)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    np.testing.assert_array_equal(out, [1, 2, 3])


@pytest.mark.parametrize('sorted_ids', [[3, 5, 9], [3, 5, 10 ** 12]])  # a table by id; a binary search
def test_lookup_finds_ids_and_flags_the_others(sorted_ids):
    from ltmm.core.lvis_eval import _lookup

    sorted_ids = np.array(sorted_ids, np.int64)
    ids = np.array([5, 3, -1, 4, sorted_ids[-1], sorted_ids[-1] + 1, 0, 2 ** 40], np.int64)
    idx, found = _lookup(sorted_ids, ids)
    np.testing.assert_array_equal(found, [True, True, False, False, True, False, False, False])
    np.testing.assert_array_equal(idx[found], [1, 0, 2])
    assert ((idx >= 0) & (idx < len(sorted_ids))).all()


def test_segm_results_without_boxes_use_mask_area(tmp_path):
    """Results from tools other than mmdet often carry only masks. More than 255 of them: pycocotools' batch
    ``area()`` fails from 256 masks on under numpy 2 (a uint8 array of their count), lvis-api takes them one by one."""
    gt, _, segm_dets = bench.make_lvis_workload(num_images=12, categories=categories(SMALL), dets_per_image=30,
                                                seed=6)
    for det in segm_dets:
        del det['bbox']
    assert len(segm_dets) > 256
    assert_identical(gt, segm_dets, 'segm', tmp_path)


def test_uncompressed_rle_results_and_ground_truth(tmp_path):
    gt, _, segm_dets = bench.make_lvis_workload(num_images=8, categories=categories(SMALL), dets_per_image=30, seed=11)
    for det in segm_dets[::3]:
        det['segmentation'] = uncompressed(det['segmentation'])
    h, w = gt['images'][0]['height'], gt['images'][0]['width']
    for ann in gt['annotations'][::2]:
        rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], h, w))
        ann['segmentation'] = uncompressed(dict(rle, counts=rle['counts'].decode()))
    assert_identical(gt, segm_dets, 'segm', tmp_path)


def test_per_class_ap_is_lvis_classwise_ap(tmp_path):
    gt, dets, _ = bench.make_lvis_workload(num_images=10, categories=categories(SMALL), dets_per_image=40, seed=7,
                                           segm=False)
    _, ref_eval = lvis_api(gt, dets, 'bbox', tmp_path)
    precision = ref_eval.eval['precision'][:, :, :, 0]
    expected = [precision[:, :, k][precision[:, :, k] > -1].mean() if (precision[:, :, k] > -1).any() else np.nan
                for k in range(precision.shape[2])]
    np.testing.assert_allclose(run_lvis_eval(gt, dets).per_class_ap(), expected, rtol=0, atol=1e-12)


def test_image_subset_equals_lvis_api_on_a_subset_ground_truth(tmp_path):
    gt, dets, _ = bench.make_lvis_workload(num_images=12, categories=categories(SMALL), dets_per_image=40, seed=8,
                                           segm=False)
    keep = {1, 2, 3, 5, 8}
    sub_gt = dict(gt, images=[im for im in gt['images'] if im['id'] in keep],
                  annotations=[a for a in gt['annotations'] if a['image_id'] in keep])
    sub_dets = [d for d in dets if d['image_id'] in keep]
    ref, _ = lvis_api(sub_gt, sub_dets, 'bbox', tmp_path)
    assert evaluate_lvis(gt, sub_dets, 'bbox', img_ids=sorted(keep)) == ref
    # every ground-truth image (lvis-api's default) scores the unpredicted ones as misses: lower recall
    assert evaluate_lvis(gt, sub_dets, 'bbox')['AR@300'] < ref['AR@300']


# ------------------------------------------------------------------ hand-computed


def hand_case():
    """Two 100x100 images; categories 1 (f), 2 (c), 3 (r), 4 (f).

    image 1: objects of 1 and 2; category 3 is negative, category 2 not exhaustive.
    image 2: objects of 3 (medium, 40x40) and 4.
    """
    cats = [dict(id=1, name='a', frequency='f', image_count=500), dict(id=2, name='b', frequency='c', image_count=50),
            dict(id=3, name='c', frequency='r', image_count=5), dict(id=4, name='d', frequency='f', image_count=200)]
    images = [dict(id=1, height=100, width=100, neg_category_ids=[3], not_exhaustive_category_ids=[2]),
              dict(id=2, height=100, width=100, neg_category_ids=[], not_exhaustive_category_ids=[])]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 20, 20], area=400),
            dict(id=2, image_id=1, category_id=2, bbox=[50, 50, 30, 30], area=900),
            dict(id=3, image_id=2, category_id=3, bbox=[10, 10, 40, 40], area=1600),
            dict(id=4, image_id=2, category_id=4, bbox=[50, 50, 20, 20], area=400)]
    dets = [dict(image_id=1, category_id=1, bbox=[70, 0, 10, 10], score=0.95),  # FP, ranked first: AP(1) = 1/2
            dict(image_id=1, category_id=1, bbox=[10, 10, 20, 20], score=0.9),  # TP
            dict(image_id=1, category_id=2, bbox=[0, 0, 10, 10], score=0.99),  # not exhaustive: ignored
            dict(image_id=1, category_id=2, bbox=[50, 50, 30, 30], score=0.5),  # TP: AP(2) = 1
            dict(image_id=1, category_id=3, bbox=[0, 50, 20, 20], score=0.7),  # negative: FP before the TP
            dict(image_id=2, category_id=3, bbox=[10, 10, 40, 40], score=0.6),  # TP: AP(3) = 1/2
            dict(image_id=1, category_id=4, bbox=[0, 0, 50, 50], score=0.99),  # neither present nor negative: dropped
            dict(image_id=2, category_id=4, bbox=[50, 50, 20, 20], score=0.3)]  # TP: AP(4) = 1
    return dict(images=images, annotations=anns, categories=cats), dets


def test_hand_computed_federated_rules(tmp_path):
    gt, dets = hand_case()
    out = run_lvis_eval(gt, dets)
    np.testing.assert_allclose(out.per_class_ap(), [0.5, 1.0, 0.5, 1.0], atol=1e-12)
    s = out.summary
    assert s['AP'] == pytest.approx(0.75) and s['AP50'] == pytest.approx(0.75)
    assert (s['APr'], s['APc'], s['APf']) == pytest.approx((0.5, 1.0, 0.75))
    # small: categories 1, 2, 4 (3's object is medium); medium: only 3, whose small FP is out of range -> ignored
    assert s['APs'] == pytest.approx((0.5 + 1 + 1) / 3) and s['APm'] == pytest.approx(1.0) and s['APl'] == -1.0
    assert s['AR@300'] == pytest.approx(1.0)
    assert_identical(gt, dets, 'bbox', tmp_path)


def test_cap_is_300_per_image_across_categories(tmp_path):
    gt, dets = hand_case()
    # 300 higher-scored misses of category 4 in image 2 push its true positive (score 0.3) out of the top 300
    misses = [dict(image_id=2, category_id=4, bbox=[0, 0, 5, 5], score=0.4) for _ in range(300)]
    out = assert_identical(gt, dets + misses, 'bbox', tmp_path)
    assert out.per_class_ap()[3] == 0.0 and out.per_class_ap()[2] == pytest.approx(0.5)  # 3's TP was cut too
    uncapped = run_lvis_eval(gt, dets + misses, max_dets=-1).per_class_ap()
    assert uncapped[3] == pytest.approx(1 / 301) and uncapped[2] == pytest.approx(0.5)


def test_no_detections_at_all_gives_zero_not_a_crash():
    gt, _ = hand_case()
    s = evaluate_lvis(gt, [])
    assert s['AP'] == 0.0 and s['APr'] == 0.0 and s['AR@300'] == 0.0 and s['APl'] == -1.0


def test_image_without_detections_counts_its_objects_as_missed(tmp_path):
    gt, dets = hand_case()
    only_image_1 = [d for d in dets if d['image_id'] == 1]
    out = assert_identical(gt, only_image_1, 'bbox', tmp_path)
    np.testing.assert_allclose(out.per_class_ap(), [0.5, 1.0, 0.0, 0.0], atol=1e-12)


def test_ground_truth_id_and_ignore_fields(tmp_path):
    gt, dets = hand_case()
    gt['annotations'][0]['id'] = 0  # lvis-api takes a match to ground-truth id 0 for "no match"
    gt['annotations'][3]['ignore'] = 1
    assert_identical(gt, dets, 'bbox', tmp_path)


def test_numpy_is_left_unpatched():
    gt, dets = hand_case()
    evaluate_lvis(gt, dets)
    assert not hasattr(np, 'float')


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize('change, error', [
    (lambda gt, dets: dets.append(dict(image_id=999, category_id=1, bbox=[0, 0, 5, 5], score=0.1)),
     'result 8 is for image id 999, which is not in the ground truth'),
    (lambda gt, dets: dets.append(dict(image_id=1, category_id=77, bbox=[0, 0, 5, 5], score=0.1)),
     'result 8 has category id 77, which is not in the categories'),
    (lambda gt, dets: dets[1].pop('score'), "result 1 has no 'score' field"),
    (lambda gt, dets: gt['images'][1].pop('neg_category_ids'), "image 2 has no 'neg_category_ids' field"),
    (lambda gt, dets: gt['categories'][2].update(frequency='x'), "category 3 has frequency 'x'"),
    (lambda gt, dets: gt['annotations'][2].update(category_id=9), 'annotation 3 has category 9'),
])
def test_bad_input_is_named(change, error, tmp_path):
    gt, dets = hand_case()
    change(gt, dets)
    with pytest.raises(ValueError, match=error):
        evaluate_lvis(gt, dets)
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    with pytest.raises(ValueError, match=error):
        evaluate_lvis(str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json'))


@pytest.mark.parametrize('text, iou_type, error', [
    ('{"results": []}', 'bbox', 'expected a list of result dicts, got dict'),
    ('[{"category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}]', 'bbox', "result 0 has no 'image_id' field"),
    ('[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}, '
     '{"image_id": 1, "category_id": 1, "score": 0.4}]', 'bbox', "result 1 has no 'bbox' field"),
    ('[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1]}]', 'bbox', 'result 0 has a malformed'),
    ('[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}]', 'segm',
     "result 0 has no 'segmentation' field"),
    ('[{"image_id": 1, "category_id": 1, "score": 0.5}]', 'bbox', "result 0 has no 'segmentation' field"),
    ('[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}', 'bbox', 'Expecting'),
])
def test_bad_result_files_are_named(text, iou_type, error, tmp_path):
    gt, _ = hand_case()
    (tmp_path / 'dets.json').write_text(text)
    with pytest.raises(ValueError, match=error) as info:
        evaluate_lvis(gt, str(tmp_path / 'dets.json'), iou_type)
    assert 'dets.json' in str(info.value)


def test_bad_arguments_are_named(tmp_path):
    gt, dets = hand_case()
    with pytest.raises(ValueError, match="iou_type must be 'bbox' or 'segm', got 'keypoints'"):
        evaluate_lvis(gt, dets, 'keypoints')
    with pytest.raises(ValueError, match='image id 5 is not in the ground truth'):
        evaluate_lvis(gt, dets, img_ids=[1, 5])
    with pytest.raises(ValueError, match='image id 2, which is not among the evaluated images'):
        evaluate_lvis(gt, dets, img_ids=[1])
    with pytest.raises(FileNotFoundError, match='nope.json'):
        evaluate_lvis(str(tmp_path / 'nope.json'), dets)
    with pytest.raises(ValueError, match="result 0 has no 'segmentation' field"):
        evaluate_lvis(gt, dets, 'segm')


def test_reads_json_files(tmp_path):
    gt, dets = hand_case()
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    assert evaluate_lvis(str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json')) == evaluate_lvis(gt, dets)


def test_result_columns_equal_result_dicts(tmp_path):
    gt, dets, segm_dets = bench.make_lvis_workload(num_images=6, categories=categories(SMALL), dets_per_image=30,
                                                   seed=9)
    for iou_type, results in (('bbox', dets), ('segm', segm_dets)):
        columns = {k: [d[k] for d in results] for k in results[0]}
        columns['bbox'] = np.array(columns['bbox'])
        assert evaluate_lvis(gt, columns, iou_type) == evaluate_lvis(gt, results, iou_type)
    with pytest.raises(ValueError, match="29 'score' values for 30 image ids"):
        evaluate_lvis(gt, dict(columns, image_id=columns['image_id'][:30], category_id=columns['category_id'][:30],
                               score=columns['score'][:29]))


def expected_columns(results, iou_type):
    """What read_result_columns must return, from the result dicts (a compressed RLE as (height, width, counts))."""
    has_box = 'bbox' in results[0]
    masks = None
    if iou_type == 'segm' or not has_box:
        masks = [(r['segmentation']['size'][0], r['segmentation']['size'][1], r['segmentation']['counts'])
                 if isinstance(r.get('segmentation'), dict) and isinstance(r['segmentation']['counts'], str)
                 else r.get('segmentation') for r in results]
    boxes = np.array([r['bbox'] for r in results], dtype=np.float64).reshape(-1, 4) if has_box else None
    return ([r['image_id'] for r in results], [r['category_id'] for r in results], [r['score'] for r in results],
            boxes, masks)


def assert_columns(columns, expected):
    img, cat, score, boxes, masks = columns
    assert img.tolist() == expected[0] and cat.tolist() == expected[1] and score.tolist() == expected[2]
    if expected[3] is None:
        assert boxes is None
    else:
        np.testing.assert_array_equal(boxes, expected[3])
    assert (masks is None) == (expected[4] is None)
    if masks is not None:
        assert list(masks) == expected[4] and len(masks) == len(expected[4])
        assert [masks[i] for i in range(len(masks))] == expected[4]


@pytest.mark.parametrize('chunk_chars', [64, 700, 1 << 24])
@pytest.mark.parametrize('dump', [dict(), dict(indent=2), dict(separators=(',', ':'))], ids=['default', 'indent',
                                                                                          'compact'])
def test_chunked_reading_equals_the_result_dicts(chunk_chars, dump, tmp_path):
    """The result file read a few characters at a time (split between results) gives the columns of the whole."""
    from ltmm.core.lvis_eval import read_result_columns

    gt, dets, segm_dets = bench.make_lvis_workload(num_images=4, categories=categories(SMALL), dets_per_image=20,
                                                   seed=11)
    no_box = [{k: v for k, v in d.items() if k != 'bbox'} for d in segm_dets]
    mixed = copy.deepcopy(segm_dets)  # uncompressed RLE and a polygon among compressed ones
    mixed[3]['segmentation'] = uncompressed(mixed[3]['segmentation'])
    mixed[5]['segmentation'] = [[1.0, 1.0, 9.0, 1.0, 9.0, 9.0]]
    for iou_type, results in (('bbox', dets), ('segm', segm_dets), ('segm', no_box), ('bbox', no_box),
                              ('segm', mixed)):
        path = tmp_path / 'results.json'
        path.write_text(json.dumps(results, **dump))
        assert_columns(read_result_columns(path, iou_type, chunk_chars=chunk_chars),
                       expected_columns(results, iou_type))
    path.write_text(json.dumps([]))
    assert read_result_columns(path, 'bbox', chunk_chars=chunk_chars)[0].tolist() == []


def test_chunked_reading_falls_back_where_a_split_is_not_between_results(tmp_path):
    """'}, {' inside a string or a nested list is no boundary: such a file is parsed in one piece, same columns."""
    from ltmm.core.lvis_eval import read_result_columns

    _, dets, _ = bench.make_lvis_workload(num_images=2, categories=categories(SMALL), dets_per_image=10, seed=12)
    odd = copy.deepcopy(dets)
    for i, d in enumerate(odd):
        d['note'] = 'a}, {b' if i % 2 else [{'x': 1}, {'y': 2}]
    path = tmp_path / 'results.json'
    path.write_text(json.dumps(odd))
    for chunk_chars in (50, 300):
        assert_columns(read_result_columns(path, 'bbox', chunk_chars=chunk_chars), expected_columns(odd, 'bbox'))


@pytest.mark.parametrize('chunk_chars', [60, 1 << 24])
def test_chunked_reading_names_the_result_by_its_index_in_the_file(chunk_chars, tmp_path):
    from ltmm.core.lvis_eval import read_result_columns

    results = [dict(image_id=1, category_id=1, score=0.5, bbox=[0, 0, 1, 1]) for _ in range(40)]
    results[33] = dict(image_id=1, category_id=1, score=0.5)
    path = tmp_path / 'results.json'
    path.write_text(json.dumps(results))
    with pytest.raises(ValueError, match="results.json: result 33 has no 'bbox' field"):
        read_result_columns(path, 'bbox', chunk_chars=chunk_chars)
    results[33] = [1, 2]
    path.write_text(json.dumps(results))
    with pytest.raises(ValueError, match="results.json: result 33 has no 'image_id' field"):
        read_result_columns(path, 'bbox', chunk_chars=chunk_chars)
    results[33] = dict(image_id=1, category_id=1, score=0.5, bbox=[0, 0, 1, 1])
    for i in (2, 37):
        results[i]['segmentation'] = None if i == 37 else dict(size=[4, 4], counts='0')
    path.write_text(json.dumps(results))
    with pytest.raises(ValueError, match="result 0 has no 'segmentation' field"):
        read_result_columns(path, 'segm', chunk_chars=chunk_chars)


def test_benchmark_writes_large_workloads_in_blocks(tmp_path):
    """The benchmark's block writer (a full LVIS val-sized workload does not fit in memory as dicts): valid files,
    unique ids, and up to one block exactly make_lvis_workload's workload."""
    files = {key: str(tmp_path / f'{key}.json') for key in ('gt', 'bbox', 'segm')}
    num_cats, num_objects, num_dets = bench.write_lvis_workload(files, 5, seed=3, block=2)
    gt = json.loads((tmp_path / 'gt.json').read_text())
    bbox, segm = (json.loads((tmp_path / f'{k}.json').read_text()) for k in ('bbox', 'segm'))
    assert [img['id'] for img in gt['images']] == [1, 2, 3, 4, 5]
    assert sorted(a['id'] for a in gt['annotations']) == list(range(1, num_objects + 1))
    assert len(bbox) == len(segm) == num_dets and num_cats == 1203
    assert {d['image_id'] for d in bbox} <= {1, 2, 3, 4, 5} and len({d['image_id'] for d in bbox}) > 2
    assert [d['bbox'] for d in segm] == [d['bbox'] for d in bbox]
    assert evaluate_lvis(files['gt'], files['segm'], 'segm')['AP'] >= 0
    bench.write_lvis_workload(files, 2, seed=3, block=2)
    gt_one, dets_one, _ = bench.make_lvis_workload(2, seed=3)
    assert json.loads((tmp_path / 'gt.json').read_text()) == json.loads(json.dumps(gt_one))
    assert json.loads((tmp_path / 'bbox.json').read_text()) == dets_one


def test_benchmark_table_of_medians_with_every_ratio():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(REPO / 'tools/benchmarks/lvis_eval_speed.py'), '--num-images', '8',
                          '--iou-types', 'bbox', '--evaluators', 'lvis-api', 'ltmm', 'ltmm-arrays', '--repeat', '2'],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert 'the median of 2 runs' in out
    header, _, row = [line for line in out.splitlines() if line.startswith('|')]
    assert header.endswith('| ltmm vs lvis-api | ltmm-arrays vs lvis-api |')
    assert row.startswith('| bbox | 8 |') and row.count('diff 0.0e+00') == 2


def test_per_image_cap_ranks_only_the_images_over_it():
    """The 300 cap (lvis-api's limit_dets_per_image: the best-scored results of each image, ties in file order) is
    the same rows as ranking every image, for grouped and shuffled image ids, ties, NaN scores and caps down to 0."""
    from ltmm.core.lvis_eval import _cap_per_image, _ranks, _segments

    def rank_all(img, score, cap):
        order = np.lexsort((-score, img))
        _, _, per_image = _segments(img[order])
        return np.sort(order[_ranks(per_image) < cap])

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 300))
        img = rng.integers(0, 6, n)
        if trial % 2:
            img = np.sort(img)
        score = rng.integers(0, 5, n) / 4.0
        if trial % 7 == 0:
            score[rng.integers(0, n, 3)] = np.nan
        cap = int(rng.integers(0, 60))
        np.testing.assert_array_equal(_cap_per_image(img, score, cap), rank_all(img, score, cap))
