"""tools/analysis/summarize.py (markdown table, mean +- std over seeds) and plot_per_class.py (runs side by side)."""
import importlib.util
import json
import subprocess

import pytest

from ltmm.core.per_class import load_per_class, save_per_class

from ..helpers import REPO, run, tool


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


summarize = load_tool('summarize')
plot_tool = load_tool('plot_per_class')

CLASSES = ['a', 'b', 'c', 'd']
COUNTS = [500, 50, 5, 200]
LVIS_GROUPS = ['f', 'c', 'r', 'f']


def lvis_run(work_dir, ap, apr, apc, apf, values=(0.4, 0.2, float('nan'), 0.1)):
    """A work dir as FastLVISMetric leaves it: <timestamp>/per_class_bbox_ap.json."""
    return save_per_class(str(work_dir / '20250101_000000' / 'per_class_bbox_ap.json'), values, COUNTS,
                          LVIS_GROUPS, CLASSES, 'bbox AP', 'lvis', dict(AP=ap, APr=apr, APc=apc, APf=apf, AP50=0.5))


def test_per_class_json_round_trip(tmp_path):
    data = load_per_class(lvis_run(tmp_path, 0.2, 0.1, 0.2, 0.3, values=(0.4, -1.0, float('nan'), 0.1)))
    assert data['classes'] == CLASSES and data['train_count'] == COUNTS and data['group'] == LVIS_GROUPS
    assert data['value'][0] == 0.4 and data['value'][3] == 0.1
    assert all(v != v for v in data['value'][1:3])  # not evaluated -> NaN
    with pytest.raises(ValueError, match='lists differ in length'):
        save_per_class(str(tmp_path / 'x.json'), [1.0], COUNTS, LVIS_GROUPS, CLASSES, 'm', 'lvis', {})
    (tmp_path / 'other.json').write_text('{"a": 1}')
    with pytest.raises(ValueError, match='other.json: not an ltmm per-class file'):
        load_per_class(str(tmp_path / 'other.json'))


def test_run_names_drop_the_seed():
    assert summarize.run_name('work_dirs/eqlv2_seed1') == 'eqlv2'
    assert summarize.run_name('work_dirs/eqlv2-seed-2/') == 'eqlv2'
    assert summarize.run_name('work_dirs/eqlv2/seed3') == 'eqlv2'
    assert summarize.run_name('work_dirs/baseline') == 'baseline'


def test_summarize_mean_and_std_over_seeds(tmp_path):
    lvis_run(tmp_path / 'eqlv2_seed0', 0.20, 0.10, 0.20, 0.30)
    lvis_run(tmp_path / 'eqlv2_seed1', 0.22, 0.14, 0.20, 0.28)
    lvis_run(tmp_path / 'baseline_seed0', 0.18, -1.0, 0.15, 0.25)  # no rare class evaluated
    table = summarize.summarize([str(tmp_path / d) for d in ('eqlv2_seed0', 'eqlv2_seed1', 'baseline_seed0')],
                                'bbox').splitlines()
    assert table[0] == '| run | seeds | AP | APr | APc | APf |'
    # AP 20, 22 -> mean 21, sample std sqrt(2) = 1.4; APr 10, 14 -> 12 +- 2.8
    assert table[2] == '| eqlv2 | 2 | 21.0 ± 1.4 | 12.0 ± 2.8 | 20.0 ± 0.0 | 29.0 ± 1.4 |'
    assert table[3] == '| baseline | 1 | 18.0 | n/a | 15.0 | 25.0 |'


def test_summarize_reads_mmengine_logs_when_no_per_class_file(tmp_path):
    log = tmp_path / 'mmdet_run' / '20250101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [dict(loss=1.0, step=1), dict(zip(['lvis/bbox_AP', 'lvis/bbox_APr', 'lvis/bbox_APc', 'lvis/bbox_APf'],
                                              [0.25, 0.05, 0.2, 0.35]), step=2), dict(loss=0.5, step=3)]
    log.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    table = summarize.summarize([str(tmp_path / 'mmdet_run')], 'bbox', names=['mask-rcnn'])
    assert table.splitlines()[2] == '| mask-rcnn | 1 | 25.0 | 5.0 | 20.0 | 35.0 |'
    with pytest.raises(FileNotFoundError, match='neither per_class_segm_ap.json nor a json log with segm'):
        summarize.summarize([str(tmp_path / 'mmdet_run')], 'segm')
    with pytest.raises(FileNotFoundError, match='no such work dir'):
        summarize.summarize([str(tmp_path / 'nope')], 'bbox')


@pytest.mark.slow
def test_summarize_classification_cli(tmp_path):
    for seed, (all_, many, medium, few) in enumerate([(60.0, 80.0, 55.0, 30.0), (64.0, 82.0, 57.0, 40.0)]):
        save_per_class(str(tmp_path / f'lenet_seed{seed}' / 'ts' / 'per_class_accuracy.json'), [80, 55, 30, 60],
                       COUNTS, ['many', 'medium', 'few', 'many'], CLASSES, 'top-1 accuracy (%)', 'shot',
                       dict(all=all_, many=many, medium=medium, few=few, top1=70.0))
    out_md = tmp_path / 'table.md'
    out = run([*tool('analysis/summarize.py', str(tmp_path / 'lenet_seed0'), str(tmp_path / 'lenet_seed1'),
                     '--metric', 'accuracy', '-o', str(out_md))], REPO).stdout
    row = '| lenet | 2 | 62.0 ± 2.8 | 81.0 ± 1.4 | 56.0 ± 1.4 | 35.0 ± 7.1 |'
    assert '| run | seeds | All | Many | Medium | Few |' in out and row in out
    assert row in out_md.read_text()


def test_summarize_and_plot_multilabel_runs(tmp_path):
    """Multi-label runs write the same per-class record (MultiLabelShotMAP), so both tools read them."""
    for seed, (map_, head, medium, tail) in enumerate([(50.0, 70.0, 50.0, 30.0), (54.0, 72.0, 52.0, 40.0)]):
        save_per_class(str(tmp_path / f'db-focal_seed{seed}' / 'ts' / 'per_class_ap.json'), [70, 50, 30, 72],
                       COUNTS, ['head', 'medium', 'tail', 'head'], CLASSES, 'AP (%)', 'multilabel',
                       dict(mAP=map_, head=head, medium=medium, tail=tail))
    table = summarize.summarize([str(tmp_path / f'db-focal_seed{s}') for s in (0, 1)], 'map').splitlines()
    assert table[0] == '| run | seeds | mAP | Head | Medium | Tail |'
    assert table[2] == '| db-focal | 2 | 52.0 ± 2.8 | 71.0 ± 1.4 | 51.0 ± 1.4 | 35.0 ± 7.1 |'
    png = tmp_path / 'map.png'
    plot_tool.main([str(tmp_path / 'db-focal_seed0'), '--metric', 'map', '-o', str(png)])
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_plot_per_class_side_by_side(tmp_path, capsys):
    lvis_run(tmp_path / 'baseline', 0.18, 0.05, 0.15, 0.25)
    lvis_run(tmp_path / 'eqlv2', 0.22, 0.14, 0.20, 0.28, values=(0.45, 0.3, 0.2, 0.15))
    png = tmp_path / 'cmp.png'
    plot_tool.main([str(tmp_path / 'baseline'), str(tmp_path / 'eqlv2'), '--metric', 'bbox', '-o', str(png)])
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    from PIL import Image

    width, height = Image.open(png).size
    assert width > 1.8 * height  # two panels side by side
    assert 'eqlv2: ' in capsys.readouterr().out


def test_plot_per_class_errors(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no per_class_accuracy.json'):
        plot_tool.main([str(tmp_path / 'empty'), '--metric', 'accuracy', '-o', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit):
        plot_tool.main([str(tmp_path / 'empty'), '--labels', 'a', 'b', '-o', str(tmp_path / 'x.png')])


reproduce_record = load_tool('reproduce_record')


def test_task_metrics_follow_the_test_evaluator():
    from mmengine.config import Config
    metrics = reproduce_record.task_metrics
    assert metrics(Config(dict(test_evaluator=dict(type='FastLVISMetric', metric=['bbox', 'segm'])))) == \
        ['bbox', 'segm']
    assert metrics(Config(dict(test_evaluator=dict(type='mmdet.LVISMetric')))) == ['bbox']  # mmdet's default
    assert metrics(Config(dict(test_evaluator=[dict(type='ShotAccuracy')]))) == ['accuracy']
    assert metrics(Config(dict(test_evaluator=dict(type='MultiLabelShotMAP')))) == ['map']
    with pytest.raises(ValueError, match='cfg.py: test_evaluator .* has no long-tail metric'):
        metrics(Config(dict(test_evaluator=dict(type='Accuracy'))), 'cfg.py')
    with pytest.raises(ValueError, match='cfg.py: no test_evaluator'):
        metrics(Config(dict()), 'cfg.py')


def test_reproduce_records_make_the_table(tmp_path):
    """reproduce_record.py writes reproduce.json / reproduce.md from a run; summarize.py tables the records."""
    config = REPO / 'configs' / 'demo' / 'lenet_digits-lt.py'
    rows = []
    for seed, (all_, many, medium, few) in enumerate([(60.0, 80.0, 55.0, 30.0), (64.0, 82.0, 57.0, -1.0)]):
        run_dir = tmp_path / 'lenet_digits-lt' / f'seed{seed}'
        save_per_class(str(run_dir / 'ts' / 'per_class_accuracy.json'), [80, 55, 30, 60], COUNTS,
                       ['many', 'medium', 'few', 'many'], CLASSES, 'top-1 accuracy (%)', 'shot',
                       dict(all=all_, many=many, medium=medium, few=few))
        record = reproduce_record.write_record(str(config), str(run_dir), seed, 2, 'epoch_30.pth')
        assert record['metrics'] == {'accuracy': dict(all=all_, many=many, medium=medium, few=few)}
        assert record['gpus'] == 2 and record['seed'] == seed and record['checkpoint'] == 'epoch_30.pth'
        saved = json.loads((run_dir / 'reproduce.json').read_text())
        assert saved['format'] == 'ltmm-reproduce/1' and saved['metrics'] == record['metrics']
        rows.append((run_dir / 'reproduce.md').read_text())
        assert summarize.read_run(str(run_dir / 'reproduce.json'), 'accuracy') == record['metrics']['accuracy']
    assert rows == ['| lenet_digits-lt | accuracy | 0 | 60.0 | 80.0 | 55.0 | 30.0 |\n',
                    '| lenet_digits-lt | accuracy | 1 | 64.0 | 82.0 | 57.0 | n/a |\n']
    records = [str(tmp_path / 'lenet_digits-lt' / f'seed{s}' / 'reproduce.json') for s in (0, 1)]
    table = summarize.summarize(records, 'accuracy').splitlines()
    assert table[2] == '| lenet_digits-lt | 2 | 62.0 ± 2.8 | 81.0 ± 1.4 | 56.0 ± 1.4 | n/a |'
    with pytest.raises(ValueError, match="reproduce.json: no 'bbox' metrics \\(it has accuracy\\)"):
        summarize.read_run(records[0], 'bbox')
    (tmp_path / 'other.json').write_text('{"a": 1}')
    with pytest.raises(ValueError, match='other.json: not a reproduction record'):
        summarize.read_run(str(tmp_path / 'other.json'), 'bbox')


@pytest.mark.parametrize('args, message', [
    ([], 'usage: '),
    (['configs/demo/nope.py', '1'], 'no such config configs/demo/nope.py'),
    (['configs/demo/lenet_digits-lt.py', '0'], "GPUS must be a positive integer, got '0'"),
    (['configs/demo/lenet_digits-lt.py', '1', '--seeds', 'x'], "--seeds must be a positive integer, got 'x'"),
])
def test_reproduce_sh_refuses_bad_arguments(args, message):
    out = subprocess.run(['bash', str(REPO / 'docker' / 'reproduce.sh'), *args], cwd=REPO, capture_output=True,
                         text=True)
    assert out.returncode == 2 and message in out.stderr, out.stderr
