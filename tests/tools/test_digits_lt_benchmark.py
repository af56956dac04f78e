"""tools/benchmarks/digits_lt.py without training: every method's config exists and takes the tool's overrides
(a stage 1 without a classifier has no val / test dataloader), and every stage chain ends in a trained config."""
import importlib.util

import pytest

from ..helpers import REPO

_spec = importlib.util.spec_from_file_location('digits_lt', REPO / 'tools/benchmarks/digits_lt.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize('name', sorted(bench.METHODS))
def test_every_method_config_takes_the_overrides(name, tmp_path):
    _, path, kind = bench.METHODS[name]
    assert kind in ('train', 'pretrain', 'stage2', 'distill', 'test', 'tau')
    cfg = bench.config(path, str(tmp_path), seed=7)
    assert cfg.randomness.seed == 7 and cfg.train_dataloader.num_workers == 0 and cfg.work_dir == str(tmp_path)
    for split in ('val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        assert (loader is None) == (kind == 'pretrain')
        assert loader is None or loader.num_workers == 0


@pytest.mark.parametrize('name', sorted(n for n, m in bench.METHODS.items() if m[2] not in ('train', 'pretrain')))
def test_stage_chains_end_in_a_trained_config(name):
    chain = [name]
    while bench.METHODS[chain[-1]][2] not in ('train', 'pretrain'):
        chain.append(bench.STAGE1.get(chain[-1], 'ce'))
        assert len(chain) < 5
