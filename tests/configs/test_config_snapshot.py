"""Every config resolves to exactly the values recorded in ``config_snapshot.jsonl`` (taken before the configs were
restructured to inherit what they can): a change of inheritance must not change a recipe. A config added or changed
on purpose is recorded with ``python tests/configs/config_snapshot.py --update CONFIG`` (see that file)."""
import json

import pytest

from .config_snapshot import config_files, load_snapshot, resolve

pytestmark = pytest.mark.slow

SNAPSHOT = load_snapshot()


def differences(old, new, path=''):
    """Readable paths where two resolved configs differ."""
    if type(old) is not type(new):
        return [f'{path}: {json.dumps(old)[:120]} -> {json.dumps(new)[:120]}']
    if isinstance(old, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            if key not in old:
                out.append(f'{path}.{key}: added {json.dumps(new[key])[:120]}')
            elif key not in new:
                out.append(f'{path}.{key}: removed')
            else:
                out += differences(old[key], new[key], f'{path}.{key}')
        return out
    if isinstance(old, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f'{path}[{i}]')]
    return [] if old == new else [f'{path}: {json.dumps(old)[:120]} -> {json.dumps(new)[:120]}']


def test_every_config_is_in_the_snapshot():
    files = config_files()
    assert sorted(set(files) - set(SNAPSHOT)) == [], 'configs without a snapshot entry (record them with --update)'
    assert sorted(set(SNAPSHOT) - set(files)) == [], 'snapshot entries of configs that no longer exist'


@pytest.mark.parametrize('config', sorted(SNAPSHOT))
def test_config_resolves_as_recorded(config):
    found = differences(SNAPSHOT[config], resolve(config))
    assert not found, f'{config} resolves differently from its snapshot:\n' + '\n'.join(found[:20])
