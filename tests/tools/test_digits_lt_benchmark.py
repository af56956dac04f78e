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
    assert kind in ('train', 'pretrain', 'stage2', 'distill', 'test', 'tau', 'experts')
    cfg = bench.config(path, str(tmp_path), seed=7)
    assert cfg.randomness.seed == 7 and cfg.train_dataloader.num_workers == 0 and cfg.work_dir == str(tmp_path)
    for split in ('val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        assert loader is not None or kind == 'pretrain'  # only a stage 1 without a classifier has none
        assert loader is None or loader.num_workers == 0


@pytest.mark.parametrize('name', sorted(n for n, m in bench.METHODS.items() if m[2] not in ('train', 'pretrain')))
def test_stage_chains_end_in_a_trained_config(name):
    def depth(method: str) -> int:
        before = bench.prerequisites(method)
        assert before or bench.METHODS[method][2] in ('train', 'pretrain')
        return 1 + max((depth(b) for b in before), default=0)

    assert depth(name) < 5


def test_lfme_takes_its_three_experts(tmp_path):
    """The 'experts' kind points the student's expert configs and checkpoints at the expert runs, in the config's
    order (few, medium, many)."""
    assert bench.prerequisites('lfme') == ['lfme-expert-few', 'lfme-expert-medium', 'lfme-expert-many']
    _, path, _ = bench.METHODS['lfme']
    options = {f'model.experts.{i}.checkpoint': f'/runs/{name}/epoch_30.pth'
               for i, name in enumerate(bench.prerequisites('lfme'))}
    cfg = bench.config(path, str(tmp_path), seed=1, **options)
    assert [e.checkpoint for e in cfg.model.experts] == [options[f'model.experts.{i}.checkpoint'] for i in range(3)]
    assert [e.config.split('/')[-1] for e in cfg.model.experts] == [
        bench.METHODS[name][1].split('/')[-1] for name in bench.prerequisites('lfme')]
