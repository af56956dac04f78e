"""The built image, as docker/README.md uses it: `make docker-test` (docker/ci.sh) builds the CPU image and runs these
with LTMM_DOCKER_IMAGE set; without it they are skipped. DOCKER names the client (default: docker)."""
import json
import os
import re
import subprocess
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = os.environ.get('LTMM_DOCKER_IMAGE')
DOCKER = os.environ.get('DOCKER', 'docker')
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not IMAGE, reason='LTMM_DOCKER_IMAGE not set: `make docker-test` builds and sets it')]


def docker(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    out = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f'docker {" ".join(args)} exited {out.returncode}:\n{out.stdout[-3000:]}\n'
                             f'{out.stderr[-3000:]}')
    return out


def run(command: str, *options: str, check: bool = True) -> subprocess.CompletedProcess:
    return docker('run', '--rm', *options, IMAGE, 'bash', '-c', command, check=check)


def test_user_init_and_venv():
    """Not root; tini is PID 1; VENV is the image's venv, so `make test` / `make demo` install nothing."""
    out = run('id -u; cat /proc/1/cmdline | tr "\\0" " "; echo; echo "$VENV"; make -n test').stdout.splitlines()
    assert out[0] != '0'
    assert out[1].startswith('/usr/bin/tini --')
    assert out[2] == '/opt/ltmm-venv'
    assert out[3:] == ['/opt/ltmm-venv/bin/python -m pytest -q tests'], out[3:]


def test_imports_and_mmcv_ops():
    out = run('python - <<"EOF"\n'
              'import torch, mmcv, mmdet, mmpretrain, ltmm\n'
              'import ltmm.cls, ltmm.det, ltmm.multilabel\n'
              'from mmcv.ops import nms, roi_align\n'
              'boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)\n'
              'keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)[1]\n'
              'assert keep.tolist() == [0, 2], keep\n'
              'rois = torch.tensor([[0, 0, 0, 4, 4]], dtype=torch.float32)\n'
              'assert roi_align(torch.ones(1, 1, 8, 8), rois, (2, 2), 1.0, 0).allclose(torch.ones(1, 1, 2, 2))\n'
              'print("ok", ltmm.__version__, torch.__version__, mmcv.__version__)\n'
              'EOF').stdout
    assert out.startswith('ok '), out


def _pins():
    pins = {}
    for name in os.listdir(os.path.join(ROOT, 'requirements')):
        for line in open(os.path.join(ROOT, 'requirements', name), encoding='utf-8'):
            m = re.match(r'\s*([A-Za-z0-9_.\-]+)==([^\s#;]+)', line)
            if m:
                pins[re.sub(r'[-_.]+', '-', m.group(1)).lower()] = m.group(2)
    return pins


def test_installed_versions_are_requirements():
    """One source of truth: every pin in requirements/*.txt is what the image has."""
    listed = json.loads(run('pip list --format json 2>/dev/null').stdout)
    installed = {re.sub(r'[-_.]+', '-', p['name']).lower(): p['version'] for p in listed}
    pins = _pins()
    assert pins, 'no pins found in requirements/'
    wrong = {name: (want, installed.get(name)) for name, want in pins.items() if installed.get(name) != want}
    assert not wrong, f'requirements pin -> image has: {wrong}'
    assert installed.get('mmcv') == '2.1.0'


def test_the_build_context_left_the_host_out():
    out = run('ls -A /ltmm; echo ---; ls -A /ltmm/data /ltmm/docker/wheels').stdout
    top, rest = out.split('---')
    assert not {'.venv', '.git', '.ci'} & set(top.split()), top
    assert rest.split() == ['/ltmm/data:', '/ltmm/docker/wheels:', 'README.md'], rest


def test_docker_stop_reaches_the_job():
    """tini forwards SIGTERM: `docker stop` ends the job (143), it is not killed after the grace period (137)."""
    name = f'ltmm-stop-{uuid.uuid4().hex[:8]}'
    docker('run', '-d', '--name', name, IMAGE, 'sleep', '300')
    try:
        docker('stop', '-t', '60', name)
        assert docker('inspect', '-f', '{{.State.ExitCode}}', name).stdout.strip() == '143'
    finally:
        docker('rm', '-f', name, check=False)


def test_ddp_training_and_reproduce_with_work_dirs_mounted(tmp_path):
    """docker/README.md's reproduction command: 2 processes over gloo train a demo config to a checkpoint, the last
    checkpoint is tested, the record and table land in the mounted work_dirs, owned by the calling user."""
    work = tmp_path / 'work_dirs'
    work.mkdir()
    uid, gid = os.getuid(), os.getgid()
    run('docker/reproduce.sh configs/demo/lenet_digits-lt.py 2 --work-dir work_dirs/repro '
        '--cfg-options train_cfg.max_epochs=2',
        '--user', f'{uid}:{gid}', '--shm-size', '1g', '-v', f'{work}:/ltmm/work_dirs')
    out = work / 'repro' / 'lenet_digits-lt'
    assert (out / 'seed0' / 'epoch_2.pth').is_file()
    record = json.loads((out / 'seed0' / 'reproduce.json').read_text())
    assert record['gpus'] == 2 and record['seed'] == 0 and record['checkpoint'].endswith('epoch_2.pth')
    assert set(record['metrics']['accuracy']) == {'all', 'many', 'medium', 'few'}
    table = (out / 'reproduction_accuracy.md').read_text()
    assert table.splitlines()[0] == '| run | seeds | All | Many | Medium | Few |'
    assert table.splitlines()[2].startswith('| lenet_digits-lt | 1 |')
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in work.rglob('*')}
    assert owners == {(uid, gid)}, owners
