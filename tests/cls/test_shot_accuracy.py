"""ShotAccuracy / shot_groups: many (n > 100), medium (20 <= n <= 100), few (n < 20) top-1 accuracy in percent."""
from typing import Dict, List, Sequence, Tuple

import pytest
import torch

from ltmm.cls.metrics import ShotAccuracy
from ltmm.core.splits import shot_groups

# Training image counts: class 0 many (150 > 100), class 1 medium (50), class 2 few (5 < 20), class 3 medium (30).
COUNTS = [150, 50, 5, 30]
# (pred, gt) pairs; class 3 has no test sample.
#   class 0: 3 of 4 right -> 75 %;  class 1: 1 of 2 right -> 50 %;  class 2: 0 of 1 right -> 0 %
PAIRS = [(0, 0), (0, 0), (0, 0), (2, 0), (1, 1), (0, 1), (1, 2)]
EXPECTED = {
    'top1': 100 * 4 / 7,            # 4 right of 7 samples
    'many': 75.0,                   # class 0
    'medium': 50.0,                 # class 1 only: class 3 has no test sample and is left out
    'few': 0.0,                     # class 2
    'all': (75.0 + 50.0 + 0.0) / 3,  # mean over the 3 evaluated classes
}


def stats(counts: Sequence[int]) -> Dict:
    return {'num_images': 1000, 'image_count': list(counts), 'instance_count': list(counts)}


def label_sample(pred: int, gt: int) -> Dict:
    return {'pred_label': torch.tensor([pred]), 'gt_label': torch.tensor([gt])}


def score_sample(pred: int, gt: int, num_classes: int) -> Dict:
    scores = torch.full((num_classes,), 0.1)
    scores[pred] = 0.7
    return {'pred_score': scores, 'gt_label': torch.tensor([gt])}


def run_metric(metric: ShotAccuracy, samples: List[Dict], batch_size: int = 3) -> Dict[str, float]:
    for i in range(0, len(samples), batch_size):
        metric.process({}, samples[i:i + batch_size])
    return metric.compute_metrics(metric.results)


def assert_metrics(got: Dict[str, float], expected: Dict[str, float]) -> None:
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key


# ---------------------------------------------------------------- shot_groups

def test_shot_groups_boundaries():
    assert shot_groups([19, 20, 100, 101, 0]).tolist() == ['few', 'medium', 'medium', 'many', 'few']


def test_shot_groups_custom_thresholds():
    assert shot_groups([5, 6, 10, 11], many_thr=10, few_thr=6).tolist() == ['few', 'medium', 'medium', 'many']
    # equal thresholds are allowed: only n == thr is medium
    assert shot_groups([9, 10, 11], many_thr=10, few_thr=10).tolist() == ['few', 'medium', 'many']


def test_shot_groups_rejects_few_above_many():
    with pytest.raises(ValueError, match=r'few_thr \(50\).*many_thr \(40\)'):
        shot_groups([1, 2], many_thr=40, few_thr=50)
    with pytest.raises(ValueError, match='few_thr'):
        ShotAccuracy(stats(COUNTS), many_thr=40, few_thr=50, plot_dir='')


# ---------------------------------------------------------------- ShotAccuracy

def test_hand_computed_with_pred_label():
    metric = ShotAccuracy(stats(COUNTS), plot_dir='')
    assert metric.groups.tolist() == ['many', 'medium', 'few', 'medium']
    assert_metrics(run_metric(metric, [label_sample(p, g) for p, g in PAIRS]), EXPECTED)


def test_pred_score_gives_the_same_as_pred_label():
    by_score = run_metric(ShotAccuracy(stats(COUNTS), plot_dir=''),
                          [score_sample(p, g, len(COUNTS)) for p, g in PAIRS])
    assert_metrics(by_score, EXPECTED)
    # mixed in one batch
    mixed = [score_sample(p, g, len(COUNTS)) if i % 2 else label_sample(p, g) for i, (p, g) in enumerate(PAIRS)]
    assert_metrics(run_metric(ShotAccuracy(stats(COUNTS), plot_dir=''), mixed), EXPECTED)


def test_evaluate_adds_prefix_and_clears_results():
    metric = ShotAccuracy(stats(COUNTS), plot_dir='')
    metric.process({}, [label_sample(p, g) for p, g in PAIRS])
    got = metric.evaluate(len(PAIRS))
    assert_metrics(got, {f'shot/{k}': v for k, v in EXPECTED.items()})
    assert metric.results == []


def test_empty_group_reports_minus_one():
    # no few-shot class at all: counts 150 (many) and 50 (medium)
    metric = ShotAccuracy(stats([150, 50]), plot_dir='')
    got = run_metric(metric, [label_sample(0, 0), label_sample(0, 1)])
    # class 0: 100 %, class 1: 0 %
    assert_metrics(got, {'top1': 50.0, 'many': 100.0, 'medium': 0.0, 'few': -1.0, 'all': 50.0})


def test_group_without_test_samples_reports_minus_one():
    # the few-shot class 2 exists but is never a ground truth; predicting it still counts as a miss
    pairs: List[Tuple[int, int]] = [(0, 0), (2, 1), (1, 1), (1, 1)]
    got = run_metric(ShotAccuracy(stats([150, 50, 5]), plot_dir=''), [label_sample(p, g) for p, g in pairs])
    # class 0: 1/1 = 100 %, class 1: 2/3; top1 3/4
    assert_metrics(got, {'top1': 75.0, 'many': 100.0, 'medium': 200 / 3, 'few': -1.0,
                         'all': (100 + 200 / 3) / 2})


def test_custom_thresholds_regroup_classes():
    # with many_thr=40, few_thr=10: 150 many, 50 many, 5 few, 30 medium
    metric = ShotAccuracy(stats(COUNTS), many_thr=40, few_thr=10, plot_dir='')
    got = run_metric(metric, [label_sample(p, g) for p, g in PAIRS])
    assert_metrics(got, dict(EXPECTED, many=(75.0 + 50.0) / 2, medium=-1.0))


def test_class_with_zero_training_images_is_accepted_as_few():
    metric = ShotAccuracy(stats([150, 0]), plot_dir='')
    assert metric.groups.tolist() == ['many', 'few']
    got = run_metric(metric, [label_sample(1, 1), label_sample(1, 0)])
    assert_metrics(got, {'top1': 50.0, 'many': 0.0, 'medium': -1.0, 'few': 100.0, 'all': 50.0})


@pytest.mark.parametrize('gt', [4, -1])
def test_gt_label_outside_classes_raises(gt):
    metric = ShotAccuracy(stats(COUNTS), plot_dir='')
    metric.process({}, [label_sample(0, 0), label_sample(0, gt)])
    with pytest.raises(ValueError, match=f'ground-truth label {gt} is outside the 4 classes'):
        metric.compute_metrics(metric.results)


def test_plot_is_written(tmp_path):
    metric = ShotAccuracy(stats(COUNTS), plot_dir=str(tmp_path / 'plots'))
    run_metric(metric, [label_sample(p, g) for p, g in PAIRS])
    png = tmp_path / 'plots' / 'per_class_accuracy.png'
    assert png.is_file()
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_no_plot_with_empty_plot_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_metric(ShotAccuracy(stats(COUNTS), plot_dir=''), [label_sample(p, g) for p, g in PAIRS])
    assert list(tmp_path.rglob('*.png')) == []


def test_per_class_json_is_written(tmp_path):
    from ltmm.core.per_class import load_per_class

    metric = ShotAccuracy(dict(stats(COUNTS), classes=['w', 'x', 'y', 'z']), plot_dir=str(tmp_path))
    got = run_metric(metric, [label_sample(p, g) for p, g in PAIRS])
    data = load_per_class(str(tmp_path / 'per_class_accuracy.json'))
    assert data['grouping'] == 'shot' and data['classes'] == ['w', 'x', 'y', 'z'] and data['train_count'] == COUNTS
    assert data['group'] == ['many', 'medium', 'few', 'medium']
    assert data['value'][:3].tolist() == [75.0, 50.0, 0.0] and data['value'][3] != data['value'][3]  # class 3: NaN
    assert data['summary'] == pytest.approx(got)
