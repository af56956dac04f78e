"""Resolve every config outside ``configs/_base_/`` and compare it with the snapshot in ``config_snapshot.jsonl``.

The snapshot was taken from the configs as they were before the restructure (main at 872566b), so a config that
inherits differently must still resolve to exactly the same values. A recipe that an issue changes on purpose is
updated with

    python tests/configs/config_snapshot.py --update configs/foo/bar.py [...]

and the diff of ``config_snapshot.jsonl`` (one config a line) shows what changed.
"""
import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name('config_snapshot.jsonl')


def config_files(root: Path = ROOT) -> List[str]:
    """Every config outside ``configs/_base_/``, relative to ``root``, sorted."""
    configs = root / 'configs'
    return sorted(str(p.relative_to(root)) for p in configs.rglob('*.py')
                  if '_base_' not in p.relative_to(configs).parts)


def canonical(value: Any) -> Any:
    """JSON-able form that keeps tuples apart from lists (``out_indices=(3,)`` is not ``[3]``)."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, tuple):
        return {'__tuple__': [canonical(v) for v in value]}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {'__repr__': f'{type(value).__name__}:{value!r}'}


def resolve(config: str, root: Path = ROOT) -> Dict[str, Any]:
    """The config as mmengine resolves it (bases merged, ``{{_base_.x}}`` substituted), in canonical form."""
    from mmengine.config import Config

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        cfg = Config.fromfile(str(root / config))
    return canonical(cfg.to_dict())


def load_snapshot(path: Path = SNAPSHOT) -> Dict[str, Any]:
    with open(path, encoding='utf-8') as f:
        return {entry['config']: entry['resolved'] for entry in map(json.loads, f)}


def write_snapshot(entries: Dict[str, Any], path: Path = SNAPSHOT) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        for config in sorted(entries):
            f.write(json.dumps({'config': config, 'resolved': entries[config]}, sort_keys=True) + '\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='*', help='configs to (re)record; all with --all')
    parser.add_argument('--update', action='store_true', help='record the given configs in the snapshot')
    parser.add_argument('--all', action='store_true', help='record every config (a new snapshot)')
    parser.add_argument('--root', default=str(ROOT), help='checkout to resolve the configs of')
    args = parser.parse_args()
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    os.chdir(root)
    if not args.update:
        parser.error('nothing to do: pass --update with configs or --all')
    entries = {} if args.all or not SNAPSHOT.exists() else load_snapshot()
    for config in (config_files(root) if args.all else args.configs):
        entries[config] = resolve(config, root)
        print(f'recorded {config}')
    write_snapshot(entries)


if __name__ == '__main__':
    main()
