"""tools/benchmarks/lt_shapes_det.py without training: its configs (seed, sampler, no validation), every method's
config exists, the table's baseline deltas, and the record of runs that --report tabulates."""
import importlib.util
import json
import sys

import numpy as np
import pytest

from ..helpers import REPO

_spec = importlib.util.spec_from_file_location('lt_shapes_det', REPO / 'tools/benchmarks/lt_shapes_det.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize('name', sorted(bench.METHODS))
def test_every_method_config_exists_and_names_its_baseline(name):
    _, path, kind, baseline = bench.METHODS[name]
    assert (REPO / path).is_file() and kind in ('train', 'stage2', 'test')
    assert baseline in (None, 'ce', 'sigmoid-ce', 'retina-focal')
    assert (baseline is None) == (name in ('ce', 'sigmoid-ce', 'retina-focal'))
    assert kind == 'train' or baseline == 'ce'  # stage-2 and post-hoc methods start from the CE model


def test_config_sets_seed_sampler_and_tests_once(tmp_path):
    plain = bench.config(bench.METHODS['ce'][1], str(tmp_path), seed=3, sampler='random')
    rfs = bench.config(bench.METHODS['ce'][1], str(tmp_path), seed=3, sampler='rfs', load_from='x.pth')
    assert plain.randomness.seed == rfs.randomness.seed == 3 and rfs.load_from == 'x.pth'
    assert plain.train_cfg.val_interval > plain.train_cfg.max_epochs == bench.MAX_EPOCHS
    retina = bench.config(bench.METHODS['retina-focal'][1], str(tmp_path), seed=3, sampler='random')
    assert retina.train_cfg.val_interval > retina.train_cfg.max_epochs == 12  # one test after training, no val
    assert plain.train_dataloader.dataset.type == 'LTShapesDataset'
    wrapped = rfs.train_dataloader.dataset
    assert wrapped.type == 'ClassBalancedDataset' and wrapped.oversample_thr == bench.RFS_THRESHOLD
    assert wrapped.dataset == plain.train_dataloader.dataset
    assert plain.train_dataloader.num_workers == 0 and plain.work_dir == str(tmp_path)


def test_summary_reports_mean_std_and_the_apr_change_against_the_baseline():
    def run(ap, apr):
        return {f'{iou}_{k}': (apr if k == 'APr' else ap) for iou in bench.IOU_TYPES for k in bench.KEYS}
    results = {'rfs': {'ce': {0: run(0.3, 0.10), 1: run(0.3, 0.12)},
                       'seesaw': {0: run(0.31, 0.15), 1: run(0.33, 0.17)}}}
    ce_row, seesaw_row = bench.summarise(results).splitlines()[-2:]
    assert ce_row.startswith('| Softmax CE | rfs | 0 1 | 30.0 +- 0.0 | 11.0 +- 1.0 |') and ce_row.endswith('|  |')
    assert seesaw_row.startswith('| Seesaw | rfs | 0 1 | 32.0 +- 1.0 | 16.0 +- 1.0 |')
    assert seesaw_row.endswith('| +5.0 (Softmax CE) |')


def test_apr_change_uses_only_the_seeds_the_baseline_also_has():
    def run(apr):
        return {f'{iou}_{k}': apr for iou in bench.IOU_TYPES for k in bench.KEYS}
    results = {'random': {'ce': {0: run(0.10)}, 'seesaw': {0: run(0.15), 2: run(0.40)}}}
    seesaw_row = bench.summarise(results).splitlines()[-1]
    assert seesaw_row.startswith('| Seesaw | random | 0 2 | 27.5 +- 12.5 |')
    assert seesaw_row.endswith('| +5.0 (Softmax CE) |')


def test_report_tabulates_the_record_and_runs_nothing(tmp_path, monkeypatch, capsys):
    metrics = {f'bbox_{k}': 0.25 for k in bench.KEYS}
    record = tmp_path / 'record.json'
    record.write_text(json.dumps({'rfs_threshold': bench.RFS_THRESHOLD, 'max_epochs': bench.MAX_EPOCHS, 'runs': {
        'random/seed1/retina-focal': {'metrics': metrics, 'commit': 'abc', 'date': '2026-12-05', 'seconds': 300}}}))
    monkeypatch.setattr(bench, 'run_method', lambda *a: pytest.fail('--report must not train'))
    monkeypatch.setattr(sys, 'argv', ['lt_shapes_det.py', '--report', '--methods', 'retina-focal', 'efl',
                                      '--work-dir', str(tmp_path / 'out'), '--record', str(record)])
    found = tmp_path / 'out' / 'random' / 'seed0' / 'retina-focal' / 'metrics.json'  # a run from before the record
    found.parent.mkdir(parents=True)
    found.write_text(json.dumps({f'bbox_{k}': 0.35 for k in bench.KEYS}))
    bench.main()
    table = (tmp_path / 'out' / 'results.md').read_text()
    assert '| RetinaNet, focal loss | random | 0 1 | ' + '30.0 +- 5.0 | ' * 4 + '- |' in table and 'EFL' not in table
    runs = json.loads(record.read_text())['runs']
    assert runs.keys() == {'random/seed0/retina-focal', 'random/seed1/retina-focal'}
    assert runs['random/seed0/retina-focal']['commit'] is None and runs['random/seed0/retina-focal']['date']
    assert 'RetinaNet, focal loss' in capsys.readouterr().out


def test_a_record_of_another_setting_is_refused(tmp_path):
    record = tmp_path / 'record.json'
    record.write_text(json.dumps({'rfs_threshold': 0.001, 'max_epochs': bench.MAX_EPOCHS, 'runs': {}}))
    with pytest.raises(ValueError, match='rfs_threshold'):
        bench.load_record(str(record))


def test_box_only_detectors_show_no_mask_columns():
    box = {f'bbox_{k}': 0.2 for k in bench.KEYS}
    assert bench.lvis_metrics({f'lvis/{key}': value for key, value in box.items()}) == box
    row = bench.summarise({'random': {'retina-focal': {0: box}}}).splitlines()[-1]
    assert row == '| RetinaNet, focal loss | random | 0 | ' + ' | '.join(['20.0'] * 4 + ['-'] * 4) + ' |  |'  # one seed


def test_plot_picks_the_best_long_tail_method_over_seeds_with_records(tmp_path, monkeypatch):
    """The baselines are not candidates (the RetinaNet focal row has the best box AP here), nor is EFL (a RetinaNet),
    nor are seeds whose work dirs lost their per-class records; the chosen method and its CE baseline (sigmoid CE for
    GOL) are averaged over the seeds both have."""
    from ltmm.core.per_class import save_per_class

    def run(sampler, seed, name, box_ap, values, record=True):
        work_dir = tmp_path / sampler / f'seed{seed}' / name
        work_dir.mkdir(parents=True)
        if record:
            save_per_class(str(work_dir / '20261205_000000' / 'per_class_bbox_ap.json'), values, [20, 5],
                           ['f', 'r'], ['a', 'b'], 'bbox AP', 'lvis', {'AP': box_ap})
        return {'bbox_AP': box_ap}

    results = {'random': {
        'ce': {0: run('random', 0, 'ce', 0.3, [0.4, 0.1])},
        'sigmoid-ce': {0: run('random', 0, 'sigmoid-ce', 0.3, [0.4, 0.1]),
                       1: run('random', 1, 'sigmoid-ce', 0.3, [0.6, 0.3]),
                       2: run('random', 2, 'sigmoid-ce', 0.3, [0.5, 0.2], record=False)},
        'retina-focal': {0: run('random', 0, 'retina-focal', 0.9, [0.9, 0.9])},
        'efl': {0: run('random', 0, 'efl', 0.95, [0.9, 0.9])},
        'eql': {0: run('random', 0, 'eql', 0.4, [0.4, 0.2]), 1: run('random', 1, 'eql', 0.4, [0.4, 0.2])},
        'gol': {0: run('random', 0, 'gol', 0.5, [0.5, 0.5]), 1: run('random', 1, 'gol', 0.5, [0.5, 0.7]),
                2: run('random', 2, 'gol', 0.8, [0.8, 0.8])}}}
    drawn = {}
    monkeypatch.setattr(bench, 'plot_per_class_panels',
                        lambda panels, out_file, metric, order: drawn.update(panels=panels) or out_file)
    assert bench.plot_best_vs_ce(results, str(tmp_path)).endswith('per_class_best_vs_ce.png')
    ce, best = drawn['panels']
    assert best['title'] == 'GOL (random), box AP 50.0, mean of seeds [0, 1]'
    assert ce['title'].startswith('Sigmoid CE (random), box AP 30.0')
    np.testing.assert_allclose(ce['values'], [0.5, 0.2])
    np.testing.assert_allclose(best['values'], [0.5, 0.6])
