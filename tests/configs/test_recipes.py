"""Recipes as the official code runs them (issue 13): a config's name states its GPUs x batch, the CIFAR-LT paper
configs train on one GPU as the official LDAM-DRW / RIDE / class-balanced runs do (BatchNorm over the whole batch),
and every method README sets the official recipe beside ours. Read from the recorded resolutions, which
test_config_snapshot.py keeps equal to the configs."""
import re

import pytest

from ..helpers import REPO
from .config_snapshot import load_snapshot

SNAPSHOT = load_snapshot()
NAMED = {config: re.search(r'_(\d+)xb(\d+)_', config) for config in SNAPSHOT}
NAMED = {config: (int(m.group(1)), int(m.group(2))) for config, m in NAMED.items() if m}
METHOD_FOLDERS = sorted(p.parent.name for p in (REPO / 'configs').glob('*/metafile.yml'))


@pytest.mark.parametrize('config', sorted(NAMED))
def test_the_name_states_the_batch_per_gpu(config):
    batch = SNAPSHOT[config]['train_dataloader']['batch_size']
    assert batch == NAMED[config][1], f'{config}: named x{NAMED[config][1]}, trains {batch} images per GPU'


@pytest.mark.parametrize('config', sorted(c for c in NAMED if 'cifar' in c))
def test_cifar_lt_configs_train_as_the_official_runs(config):
    """One GPU (the official runs' BatchNorm statistics over the whole batch), or SyncBN where a config is meant for
    several GPUs; the lr is defined for the named total batch."""
    gpus, batch = NAMED[config]
    resolved = SNAPSHOT[config]
    assert gpus == 1 or 'SyncBN' in str(resolved['model']), f'{config}: {gpus} GPUs with per-GPU BatchNorm'
    assert resolved['auto_scale_lr']['base_batch_size'] == gpus * batch


def test_cifar_lt_paper_configs_exist_in_every_folder_that_trains_on_cifar():
    folders = {c.split('/')[1] for c in NAMED if 'cifar' in c}
    assert {'baseline', 'ldam_drw', 'ride', 'class_balanced', 'decoupling'} <= folders


@pytest.mark.parametrize('folder', METHOD_FOLDERS)
def test_every_method_readme_sets_the_official_recipe_beside_ours(folder):
    text = (REPO / 'configs' / folder / 'README.md').read_text(encoding='utf-8')
    match = re.search(r'^## Fidelity\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    assert match, f'configs/{folder}/README.md has no "## Fidelity" section'
    assert 'official' in match.group(1).lower() and '|' in match.group(1), \
        f'configs/{folder}/README.md: the Fidelity section needs the official recipe beside ours (a table)'
