"""The OpenMMLab model index: ``model-index.yml`` at the repository root and ``configs/<method>/metafile.yml``.

Pure file checks (PyYAML and pathlib; ltmm is not imported, no config is loaded):

1. ``model-index.yml`` imports exactly the metafiles that exist, one per method folder. Method folders are the
   folders directly under ``configs/`` except ``_base_`` (bases) and ``demo`` (the ``make demo`` configs the
   method folders inherit; no paper, no README of its own, so no metafile).
2. Every local path a metafile names exists: each Collection's and Model's ``Config`` and ``README``, and each
   ``Code.Implementation`` entry that is not a URL.
3. Every config that a table row of a ``configs/*/README.md`` names (``name.py``, ``[text](name.py)``, resolved
   against the README's folder) exists and has a Models entry.
4. Every runnable config of a method folder (every ``.py`` under it outside ``_base_``) has exactly one Models entry,
   in that folder's metafile, named after the file; Model names are unique over the index, and each Model's
   ``In Collection`` is a Collection of its metafile.
5. Every Result has Task, Dataset (the model's Training Data), numeric Metrics, a ``Provenance`` of
   ``paper-reported`` (a number the paper, the official code or a third-party re-run published; not reproduced by
   ltmm) or ``measured-by-ltmm`` (ltmm's own measurement, e.g. the Digits-LT demo tables), and a ``Source`` saying
   where the README quotes it from.
6. Every Collection has Paper (Title, URL), Code (URL) and a README.
7. Where the ``modelindex`` package is installed (mmpretrain's ``modelindex`` requirement pulls it in), its loader
   reads the index with the same models and reports no error other than its README-path one (it resolves
   ``README`` against the metafile's folder; OpenMMLab, and these files, write it from the repository root).
"""
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs'
INDEX = ROOT / 'model-index.yml'
NOT_METHOD_FOLDERS = ('_base_', 'demo')
PROVENANCE = ('paper-reported', 'measured-by-ltmm')


def method_folders() -> List[Path]:
    return sorted(p for p in CONFIGS.iterdir() if p.is_dir() and p.name not in NOT_METHOD_FOLDERS)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def load_yaml(path: Path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def metafiles() -> Dict[str, dict]:
    """Repository-relative metafile path -> its parsed content, for every metafile under configs/."""
    return {rel(p): load_yaml(p) for p in sorted(CONFIGS.glob('*/metafile.yml'))}


def all_models() -> Iterator[Tuple[str, dict]]:
    for path, meta in metafiles().items():
        for model in meta.get('Models') or []:
            yield path, model


def runnable_configs(folder: Path) -> List[str]:
    return sorted(rel(p) for p in folder.rglob('*.py') if '_base_' not in p.relative_to(folder).parts)


def is_url(value: str) -> bool:
    return value.startswith(('http://', 'https://'))


# `[text](target.py)` gives target.py; otherwise any `name.py` / `dir/name.py` token of the row.
_LINK = re.compile(r'\]\(([^)\s]+\.py)\)')
_NAME = re.compile(r'(?<![\w.\-/*])((?:\.{0,2}/)?[\w.\-]+(?:/[\w.\-]+)*\.py)(?![\w])')


def readme_config_names() -> List[Tuple[str, str, Path]]:
    """(README, name as written, resolved path) for every ``*.py`` a markdown table row of a configs README names.

    Glob patterns (``*_sqrt-sampling.py``) name a family, not a file, and are skipped. A bare name or ``./``,
    ``../`` path resolves against the README's folder; a name that does not exist there but does from the
    repository root (``tools/analysis/tau_sweep.py``) is a tool, not a config, unless it lies under configs/.
    """
    found = []
    for readme in sorted(CONFIGS.glob('*/README.md')):
        in_code = False
        for line in readme.read_text(encoding='utf-8').splitlines():
            if line.lstrip().startswith('```'):
                in_code = not in_code
            if in_code or not line.lstrip().startswith('|'):
                continue
            names = set(_LINK.findall(line))
            stripped = _LINK.sub('](', line)
            names.update(m.group(1) for m in _NAME.finditer(stripped))
            for name in sorted(names):
                if '*' in name:
                    continue
                local = (readme.parent / name).resolve()
                from_root = (ROOT / name).resolve()
                if not local.exists() and from_root.exists() and CONFIGS not in from_root.parents:
                    continue  # a tool or a module of the repository, not a config
                path = local if local.exists() or not from_root.exists() else from_root
                found.append((rel(readme), name, path))
    return found


def test_index_imports_one_metafile_per_method_folder():
    index = load_yaml(INDEX)
    imports = index['Import']
    assert len(imports) == len(set(imports)), f'model-index.yml imports a metafile twice: {imports}'
    expected = [f'configs/{p.name}/metafile.yml' for p in method_folders()]
    existing = sorted(metafiles())
    assert sorted(imports) == sorted(expected), (
        f'model-index.yml must import one metafile per method folder: missing '
        f'{sorted(set(expected) - set(imports))}, unexpected {sorted(set(imports) - set(expected))}')
    assert existing == sorted(expected), (
        f'metafiles on disk {existing} differ from the method folders {expected} (configs/_base_ and configs/demo '
        f'have none)')


def test_every_local_path_exists():
    missing = []
    for path, meta in metafiles().items():
        for entry in (meta.get('Collections') or []) + (meta.get('Models') or []):
            for key in ('Config', 'README'):
                value = entry.get(key)
                if value is not None and not is_url(value) and not (ROOT / value).is_file():
                    missing.append(f'{path}: {entry["Name"]}: {key} {value}')
            code = entry.get('Code') or {}
            for value in code.get('Implementation') or []:
                if not is_url(value) and not (ROOT / value).is_file():
                    missing.append(f'{path}: {entry["Name"]}: Code.Implementation {value}')
    assert not missing, 'metafile paths that do not exist:\n' + '\n'.join(missing)


def test_every_config_a_readme_row_names_has_a_model_entry():
    configs = {model['Config'] for _, model in all_models()}
    named = readme_config_names()
    assert named, 'no README table row names a config: the parser is broken'
    problems = []
    for readme, name, path in named:
        if not path.is_file():
            problems.append(f'{readme}: a table row names {name}, which does not exist')
        elif rel(path) not in configs:
            problems.append(f'{readme}: a table row names {name} ({rel(path)}), which has no metafile Models entry')
    assert not problems, '\n'.join(problems)


def test_every_runnable_config_has_exactly_one_model_entry():
    problems = []
    names: Dict[str, str] = {}
    for folder in method_folders():
        metafile = folder / 'metafile.yml'
        if not metafile.is_file():
            problems.append(f'{rel(folder)} has no metafile.yml')
            continue
        meta = load_yaml(metafile)
        collections = {c['Name'] for c in meta.get('Collections') or []}
        models = meta.get('Models') or []
        entries = [m['Config'] for m in models]
        for config in runnable_configs(folder):
            count = entries.count(config)
            if count != 1:
                problems.append(f'{config}: {count} Models entries in {rel(metafile)} (want 1)')
        for model in models:
            config = model['Config']
            if not config.startswith(f'{rel(folder)}/'):
                problems.append(f'{rel(metafile)}: {model["Name"]} points outside its folder: {config}')
            if model['Name'] != Path(config).stem:
                problems.append(f'{rel(metafile)}: Name {model["Name"]} is not the config file name {config}')
            if model['Name'] in names:
                problems.append(f'Model name {model["Name"]} in {rel(metafile)} and {names[model["Name"]]}')
            names[model['Name']] = rel(metafile)
            if model.get('In Collection') not in collections:
                problems.append(f'{rel(metafile)}: {model["Name"]}: In Collection {model.get("In Collection")!r} '
                                f'is not one of {sorted(collections)}')
    assert not problems, '\n'.join(problems)


def test_every_result_says_where_its_number_comes_from():
    problems = []
    n_results = 0
    for path, model in all_models():
        where = f'{path}: {model["Name"]}'
        for result in model.get('Results') or []:
            n_results += 1
            for key in ('Task', 'Dataset', 'Metrics', 'Provenance', 'Source'):
                if not result.get(key):
                    problems.append(f'{where}: a Result has no {key}')
            if result.get('Provenance') not in PROVENANCE:
                problems.append(f'{where}: Provenance {result.get("Provenance")!r} is not one of {PROVENANCE}')
            if result.get('Dataset') != (model.get('Metadata') or {}).get('Training Data'):
                problems.append(f'{where}: Result on {result.get("Dataset")!r} but the model trains on '
                                f'{(model.get("Metadata") or {}).get("Training Data")!r}')
            for metric, value in (result.get('Metrics') or {}).items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    problems.append(f'{where}: metric {metric} = {value!r} is not a number')
    assert n_results, 'no metafile has a Result'
    assert not problems, '\n'.join(problems)


def test_every_collection_has_paper_code_and_readme():
    problems = []
    for path, meta in metafiles().items():
        collections = meta.get('Collections') or []
        if not collections:
            problems.append(f'{path}: no Collections')
        for c in collections:
            paper, code = c.get('Paper') or {}, c.get('Code') or {}
            if not (paper.get('Title') and is_url(paper.get('URL', ''))):
                problems.append(f'{path}: {c.get("Name")}: Paper needs Title and URL, got {paper}')
            if not is_url(code.get('URL', '')):
                problems.append(f'{path}: {c.get("Name")}: Code needs the URL of the official code, got {code}')
            if not c.get('README'):
                problems.append(f'{path}: {c.get("Name")}: no README')
    assert not problems, '\n'.join(problems)


def test_modelindex_loads_the_index():
    modelindex = pytest.importorskip('modelindex')
    if not hasattr(modelindex, 'load'):
        pytest.skip('the installed modelindex has no load()')
    index = modelindex.load(str(INDEX))
    assert sorted(m.name for m in index.models) == sorted(m['Name'] for _, m in all_models())
    assert sorted(c.name for c in index.collections) == sorted(
        c['Name'] for meta in metafiles().values() for c in meta['Collections'])
    errors = [e for e in index.check(silent=True) if 'Path to README file' not in e]
    assert not errors, '\n'.join(errors)
