"""tools/benchmarks/contrastive_cost.py at tiny sizes: the backbone swap, the state size of a queue, and one method
(KCL) run end to end for 2 steps beside the CE baseline in fresh subprocesses."""
import importlib.util

from ..helpers import REPO

_spec = importlib.util.spec_from_file_location('contrastive_cost', REPO / 'tools/benchmarks/contrastive_cost.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_every_method_config_exists():
    assert all((REPO / path).is_file() for path in bench.METHODS.values())


def test_small_backbone_resizes_only_the_readers_of_the_pooled_feature():
    model = dict(type='X', backbone=dict(type='ResNet', depth=50),
                 neck=dict(type='MLPNeck', channels=(2048, 2048, 128)),
                 head=dict(type='LinearClsHead', in_channels=2048, loss=dict(type='L', class_stats='missing.txt')),
                 contrast_loss=dict(type='BCLLoss', in_channels=2048, feat_dim=1024))
    out = bench.small_backbone_cfg(model, 18)
    assert out['backbone']['depth'] == 18 and model['backbone']['depth'] == 50  # the input is left alone
    assert out['neck']['channels'] == (512, 2048, 128)  # hidden width as configured
    assert out['head']['in_channels'] == 512 and out['contrast_loss']['in_channels'] == 512
    assert len(out['head']['loss']['class_stats']['image_count']) == 1000
    assert bench.num_views([dict(type='MultiView', num_views=[1, 2])]) == 3
    assert bench.num_views([dict(type='MultiView', num_views=2)]) == 2 and bench.num_views([]) == 1


def test_runs_one_method_for_two_steps(capsys):
    rows = bench.main(['--methods', 'KCL', '--size', '32', '--batch', '4', '--steps', '2', '--warmup', '1',
                       '--queue-size', '64'])
    assert [r['method'] for r in rows] == ['CE', 'KCL']
    ce, kcl = rows
    assert kcl['views'] == 2 and (kcl['queue_size'], kcl['feat_dim']) == (64, 128)
    # queue: 64 x 128 float32 features + 64 int64 labels + the int64 pointer (+ the preprocessor's mean / std)
    assert 0 <= kcl['state_mib'] * 2**20 - (64 * 128 * 4 + 64 * 8 + 8) <= 64
    assert kcl['key_encoder_mib'] > 0 and ce['key_encoder_mib'] == 0
    assert kcl['ms'] > 0 and kcl['ce_ms'] > 0 and kcl['peak_mib'] >= 0
    table = capsys.readouterr().out
    assert '| KCL | 2 | 64 x 128 | 64 |' in table and '| CE | 1 | - | - |' in table
