"""ltmm-lvis-eval: the table, --out and --per-class on files, and each bad input named with exit status 2."""
import json
import subprocess
import sys

import pytest

from ltmm.core.lvis_eval import evaluate_lvis
from ltmm.core.lvis_eval_cli import main
from ltmm.core.per_class import load_per_class

from ..helpers import REPO
from .test_lvis_eval import hand_case


@pytest.fixture
def files(tmp_path):
    gt, dets = hand_case()
    for det in dets:  # square masks, so segm works too
        x, y, w, h = det['bbox']
        det['segmentation'] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    for ann in gt['annotations']:
        x, y, w, h = ann['bbox']
        ann['segmentation'] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    return tmp_path, gt, dets


def test_table_metrics_and_per_class_files(files, capsys):
    tmp_path, gt, dets = files
    code = main([str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json'), '--iou', 'bbox', 'segm',
                 '--out', str(tmp_path / 'metrics.json'), '--per-class', str(tmp_path / 'per_class.json')])
    assert code == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith('| iou | AP | AP50 | AP75 | APs | APm | APl | APr | APc | APf | AR@300 |')
    assert out.splitlines()[2].startswith('| bbox | ') and out.splitlines()[3].startswith('| segm | ')
    assert 'bbox matching done' in err and 'metrics written to' in err
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics['bbox'] == evaluate_lvis(gt, dets, 'bbox')
    assert metrics['segm'] == evaluate_lvis(gt, dets, 'segm')
    record = load_per_class(str(tmp_path / 'per_class.segm.json'))
    assert record['grouping'] == 'lvis' and record['metric'] == 'segm AP' and len(record['classes']) == 4
    assert (tmp_path / 'per_class.bbox.json').is_file()


def test_ground_truth_is_parsed_once_for_both_iou_types(files, monkeypatch, capsys):
    import ltmm.core.lvis_eval as lvis_eval

    tmp_path, gt, _ = files
    parsed = []
    real_load = lvis_eval.json.load
    monkeypatch.setattr(lvis_eval.json, 'load', lambda f, **kw: parsed.append(f.name) or real_load(f, **kw))
    assert main([str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json'), '--iou', 'bbox', 'segm']) == 0
    assert parsed == [str(tmp_path / 'gt.json')]
    # errors in the ground truth still name its file
    gt['annotations'][0]['category_id'] = 77
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    assert main([str(tmp_path / 'gt.json'), str(tmp_path / 'dets.json')]) == 2
    assert f"{tmp_path / 'gt.json'}: annotation" in capsys.readouterr().err


@pytest.mark.parametrize('change, message', [
    (lambda gt, dets: None, 'no such file'),
    (lambda gt, dets: dets.append(dict(dets[0], image_id=999)), 'is for image id 999, which is not in the ground'),
    (lambda gt, dets: dets.append(dict(dets[0], category_id=77)), 'has category id 77, which is not in the'),
    (lambda gt, dets: dets[2].pop('bbox'), "result 2 has no 'bbox' field"),
])
def test_bad_input_exits_2_naming_it(files, change, message, capsys):
    tmp_path, gt, dets = files
    change(gt, dets)
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    results = tmp_path / ('missing.json' if message == 'no such file' else 'dets.json')
    assert main([str(tmp_path / 'gt.json'), str(results)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith('ltmm-lvis-eval: error: ') and message in err.splitlines()[-1]


def test_segm_needs_masks_and_the_module_runs_without_frameworks(files):
    tmp_path, _, dets = files
    for det in dets:
        det.pop('segmentation')
    (tmp_path / 'boxes.json').write_text(json.dumps(dets))
    # as a module in a fresh interpreter: the exit status, and no framework imported on the way
    code = ('import runpy, sys\nsys.argv = ["ltmm-lvis-eval"] + sys.argv[1:]\n'
            'try:\n    runpy.run_module("ltmm.core.lvis_eval_cli", run_name="__main__")\n'
            'finally:\n'
            '    print(sorted(m for m in ("torch", "mmengine", "mmdet") if m in sys.modules), file=sys.stderr)')
    proc = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'gt.json'), str(tmp_path / 'boxes.json'),
                           '--iou', 'segm'], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "result 0 has no 'segmentation' field (segm evaluation)" in proc.stderr
    assert proc.stderr.strip().endswith('[]')
