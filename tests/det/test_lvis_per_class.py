"""Per-category LVIS AP (ltmm's lvis-api-identical evaluator underneath) and the per-class AP plot tool."""
import csv
import json
import math

import pytest

from ltmm.core.per_class import load_per_class
from ltmm.det.evaluation.lvis_per_class import lvis_per_class_ap

from ..helpers import REPO, run, tool


@pytest.fixture
def lvis_files(tmp_path):
    # category 1 (frequent): one object, found exactly -> AP 1
    # category 2 (rare): one object, only a wrong box is predicted -> AP 0
    # category 3 (common): no ground truth and no detection in the evaluated image -> no AP (NaN)
    cats = [dict(id=1, name='a', frequency='f', image_count=150), dict(id=2, name='b', frequency='r', image_count=4),
            dict(id=3, name='c', frequency='c', image_count=30)]
    image = dict(id=1, height=100, width=100, neg_category_ids=[3], not_exhaustive_category_ids=[])
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 20, 20], area=400),
            dict(id=2, image_id=1, category_id=2, bbox=[60, 60, 30, 30], area=900)]
    dets = [dict(image_id=1, category_id=1, bbox=[10, 10, 20, 20], score=0.9),
            dict(image_id=1, category_id=2, bbox=[0, 60, 10, 10], score=0.8)]
    gt_file, det_file = tmp_path / 'gt.json', tmp_path / 'dets.json'
    gt_file.write_text(json.dumps(dict(images=[image], annotations=anns, categories=cats)))
    det_file.write_text(json.dumps(dets))
    return gt_file, det_file


def test_per_class_ap_hand_computed(lvis_files):
    gt_file, det_file = lvis_files
    res = lvis_per_class_ap(str(gt_file), str(det_file), 'bbox')
    assert res['names'] == ['a', 'b', 'c'] and res['frequency'] == ['f', 'r', 'c']
    assert res['image_count'] == [150, 4, 30]
    assert res['ap'][0] == pytest.approx(1.0) and res['ap'][1] == pytest.approx(0.0) and math.isnan(res['ap'][2])
    s = res['summary']
    assert s['APf'] == pytest.approx(1.0) and s['APr'] == pytest.approx(0.0) and s['APc'] == -1
    assert s['AP'] == pytest.approx(0.5)


def test_per_class_ap_missing_file(tmp_path, lvis_files):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        lvis_per_class_ap(str(tmp_path / 'nope.json'), str(lvis_files[1]))


@pytest.mark.slow
def test_per_class_ap_tool_writes_plot_and_csv(tmp_path, lvis_files):
    gt_file, det_file = lvis_files
    out = run(tool('analysis/per_class_ap.py', str(gt_file), str(det_file), '--out-dir', str(tmp_path / 'o')),
              REPO).stdout
    assert 'APr 0.0000' in out and 'APf 1.0000' in out
    assert (tmp_path / 'o' / 'per_class_bbox_ap.png').stat().st_size > 1000
    with open(tmp_path / 'o' / 'per_class_bbox_ap.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['category'], r['frequency'], r['train_images']) for r in rows] == [('a', 'f', '150'),
                                                                                ('b', 'r', '4'), ('c', 'c', '30')]
    assert float(rows[0]['ap']) == pytest.approx(1.0)
    data = load_per_class(str(tmp_path / 'o' / 'per_class_bbox_ap.json'))
    assert data['classes'] == ['a', 'b', 'c'] and data['summary']['APf'] == pytest.approx(1.0)
