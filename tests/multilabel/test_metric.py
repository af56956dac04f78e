"""MultiLabelShotMAP and average_precision on constructed examples (and against sklearn)."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

import ltmm.multilabel  # noqa: F401  (registration)
from ltmm.core.per_class import load_per_class
from ltmm.core.splits import multilabel_splits
from ltmm.multilabel.metrics import MultiLabelShotMAP, average_precision


def test_average_precision_by_hand():
    scores = np.array([[0.9], [0.8], [0.7], [0.6]])
    targets = np.array([[1], [0], [1], [0]])
    # positives at ranks 1 and 3: AP = 1/2 * 1 + 1/2 * 2/3
    assert average_precision(scores, targets)[0] == pytest.approx(0.5 + 0.5 * 2 / 3)
    # a tie between a positive and a negative counts as one threshold: precision 1/2 at recall 1
    assert average_precision(np.array([[0.5], [0.5]]), np.array([[1], [0]]))[0] == pytest.approx(0.5)


def test_average_precision_matches_sklearn_with_ties_and_empty_classes():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((60, 7)), 1)  # many ties
    targets = rng.random((60, 7)) < np.linspace(0.05, 0.6, 7)
    targets[:, 3] = False
    ours = average_precision(scores, targets)
    assert np.isnan(ours[3])
    for c in (0, 1, 2, 4, 5, 6):
        assert ours[c] == pytest.approx(average_precision_score(targets[:, c], scores[:, c]), abs=1e-12)


def test_splits_thresholds():
    assert multilabel_splits([100, 99, 20, 19, 0, 500]).tolist() == ['head', 'medium', 'medium', 'tail', 'tail',
                                                                      'head']
    with pytest.raises(ValueError, match='tail_thr'):
        multilabel_splits([1], head_thr=10, tail_thr=20)


def evaluate(metric, scores, gts, as_score=False):
    samples = []
    for s, g in zip(scores, gts):
        sample = {'pred_score': torch.tensor(s, dtype=torch.float32)}
        if as_score:
            sample['gt_score'] = torch.tensor(g, dtype=torch.float32)
        else:
            sample['gt_label'] = torch.tensor(np.flatnonzero(g))
        samples.append(sample)
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    return metric.evaluate(len(samples))


def test_metric_head_medium_tail_on_a_constructed_example(tmp_path):
    # training counts: classes 0, 1 head; 2 medium; 3 tail; class 4 (tail) has no positive test image
    stats = dict(num_images=300, image_count=[150, 100, 50, 5, 2], instance_count=[150, 100, 50, 5, 2],
                 classes=['a', 'b', 'c', 'd', 'e'])
    gts = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 0, 0], [1, 0, 1, 0, 0], [0, 1, 0, 0, 0]])
    scores = np.array([[0.9, 0.2, 0.1, 0.6, 0.3],
                       [0.1, 0.8, 0.7, 0.2, 0.1],
                       [0.8, 0.3, 0.4, 0.9, 0.2],
                       [0.2, 0.6, 0.9, 0.1, 0.4]])
    # per-class AP by hand: a: 1; b: ranking 0.8(-), 0.6(+), 0.3(-), 0.2(+) -> 1/2 * 1/2 + 1/2 * 2/4;
    # c: ranking 0.9(-), 0.7(+), 0.4(+) -> 1/2 * 1/2 + 1/2 * 2/3; d: ranked 2nd -> 1/2; e: undefined
    expected = {'a': 100.0, 'b': 50.0, 'c': 100 * (0.25 + 1 / 3), 'd': 50.0}
    metric = MultiLabelShotMAP(stats, plot_dir=str(tmp_path))
    out = evaluate(metric, scores, gts)
    assert out['shot_map/mAP'] == pytest.approx(np.mean(list(expected.values())))
    assert out['shot_map/head'] == pytest.approx((expected['a'] + expected['b']) / 2)
    assert out['shot_map/medium'] == pytest.approx(expected['c'])
    assert out['shot_map/tail'] == pytest.approx(expected['d'])
    assert np.isnan(metric.per_class_ap[4])
    record = load_per_class(str(tmp_path / 'per_class_ap.json'))  # ltmm.core.per_class, as every task writes it
    assert record['grouping'] == 'multilabel' and record['group'] == ['head', 'head', 'medium', 'tail', 'tail']
    assert record['value'][1] == pytest.approx(expected['b']) and np.isnan(record['value'][4])
    assert record['train_count'] == stats['image_count'] and record['summary']['mAP'] == out['shot_map/mAP']
    assert (tmp_path / 'per_class_ap.png').stat().st_size > 1000
    # the same with gt_score targets, and a split without evaluated class reports -1
    stats_no_medium = dict(stats, image_count=[150, 100, 500, 5, 2])
    out = evaluate(MultiLabelShotMAP(stats_no_medium, plot_dir=''), scores, gts, as_score=True)
    assert out['shot_map/medium'] == -1.0
    assert out['shot_map/head'] == pytest.approx((expected['a'] + expected['b'] + expected['c']) / 3)


def test_metric_bad_inputs():
    metric = MultiLabelShotMAP(dict(num_images=4, image_count=[3, 1], instance_count=[3, 1]), plot_dir='')
    with pytest.raises(ValueError, match='3 classes but class_stats'):
        metric.process({}, [{'pred_score': torch.zeros(3), 'gt_label': torch.tensor([0])}])
    with pytest.raises(ValueError, match='outside the 2 classes'):
        metric.process({}, [{'pred_score': torch.zeros(2), 'gt_label': torch.tensor([2])}])


def test_registered_in_mmpretrain():
    from mmpretrain.registry import METRICS
    metric = METRICS.build(dict(type='MultiLabelShotMAP', plot_dir='',
                                class_stats=dict(num_images=2, image_count=[1, 1], instance_count=[1, 1])))
    assert isinstance(metric, MultiLabelShotMAP)
