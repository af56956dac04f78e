"""tools/data/verify_splits.py as a user runs it (a subprocess; it imports no framework, so it is quick): the report
of each problem, the exit status, the record of the first clean verification and --record."""
import json
import subprocess
from pathlib import Path
from typing import List

from ltmm.core import split_manifest as sm

from ..core.test_split_manifest import TOY_TRAIN, make_toy, text, toy_manifest
from ..helpers import REPO, run, tool


def verify(*args: str) -> subprocess.CompletedProcess:
    """Run the tool; stdout and stderr merged (the progress bar goes to stderr)."""
    return subprocess.run(tool('data/verify_splits.py', *args), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)


def toy(tmp_path: Path) -> List[str]:
    """The toy manifest written next to a data root holding the toy benchmark: the tool's arguments."""
    (tmp_path / 'manifest.json').write_text(json.dumps(toy_manifest()))
    make_toy(tmp_path / 'data')
    return [str(tmp_path / 'data'), '--manifest', str(tmp_path / 'manifest.json')]


def test_clean_data_passes_and_is_recorded(tmp_path):
    args = toy(tmp_path)
    out = run(tool('data/verify_splits.py', *args), REPO).stdout
    root = tmp_path / 'data' / 'toy'
    assert f'Toy-LT (toy_lt): {root}' in out
    assert f'ok           {root}/lists/val.txt: 6 images, 3 classes; matches the published copy ' \
           'https://example.org/val' in out
    assert 'all 15 listed images are on disk' in out
    assert f'digests recorded in {root / sm.RECORD_NAME}' in out and out.rstrip().endswith('Toy-LT: ok')
    out = run(tool('data/verify_splits.py', *args, '--no-images'), REPO).stdout
    assert 'digests match the record' in out and 'listed images' not in out


def test_each_problem_is_named_and_fails(tmp_path):
    args = toy(tmp_path)
    root = tmp_path / 'data' / 'toy'
    (root / 'lists' / 'img_id.txt').unlink()
    (root / 'lists' / 'train.txt').write_bytes(text(TOY_TRAIN[:4]))
    (root / 'lists' / 'val.txt').write_bytes(text(['img/a/5.jpg 0'] * 6))
    for image in ('img/b/0.jpg', 'photos/000000000003.jpg'):
        (root / image).unlink()
    proc = verify(*args)
    assert proc.returncode == 1, proc.stdout
    out = proc.stdout
    assert f'MISSING      {root}/lists/img_id.txt: not found (Toy-LT img_id list)' in out
    assert f'SHORT        {root}/lists/train.txt: Toy-LT train has 6 images, found 4' in out
    assert f'CLASSES      {root}/lists/val.txt: Toy-LT val has images of all 3 classes, found none of 2 classes ' \
           '(first: class 1)' in out
    assert f'IMAGES       {root}: 2 of the 8 images the Toy-LT lists name are not on disk, e.g. img/b/0.jpg, ' \
           'photos/000000000003.jpg' in out
    assert 'not recorded: fix the problems first' in out and 'to prepare Toy-LT: make the toy data' in out
    assert out.rstrip().endswith('Toy-LT: 4 problem(s) (classes, images, missing, short)')
    assert not (root / sm.RECORD_NAME).exists()


def test_altered_file_is_reported_until_accepted(tmp_path):
    args = toy(tmp_path)
    root = tmp_path / 'data' / 'toy'
    run(tool('data/verify_splits.py', *args, '--no-images'), REPO)
    recorded = json.loads((root / sm.RECORD_NAME).read_text())['files']['lists/train.txt']
    altered = text(TOY_TRAIN[:-1] + ['img/c/9.jpg 2'])
    (root / 'lists' / 'train.txt').write_bytes(altered)
    proc = verify(*args, '--no-images')
    assert proc.returncode == 1
    assert (f'CHANGED      {root}/lists/train.txt: changed since it was verified on {recorded["recorded"]} (sha256 '
            f'{recorded["sha256"]} -> {sm.sha256_bytes(altered)}); if the change is wanted, accept it with python '
            f'tools/data/verify_splits.py {root} --benchmark toy_lt --record') in proc.stdout
    assert 'to prepare' not in proc.stdout
    out = run(tool('data/verify_splits.py', str(root), '--benchmark', 'toy_lt', '--record', '--no-images',
                   '--manifest', args[-1]), REPO).stdout
    assert 'digests recorded in' in out and out.rstrip().endswith('Toy-LT: ok')
    assert verify(*args, '--no-images').returncode == 0


def test_shipped_manifest_and_empty_roots(tmp_path):
    proc = verify(str(tmp_path))
    assert proc.returncode == 1 and 'holds none of the benchmark roots (imagenet, places365, inat2018, VOCdevkit, ' \
                                    'coco); name one with --benchmark' in proc.stdout
    proc = verify(str(tmp_path), '--benchmark', 'coco_mlt')
    assert proc.returncode == 1
    for name in ('train.txt', 'test.txt', 'img_id.txt'):
        assert f'MISSING      {tmp_path}/coco/longtail2017/{name}: not found' in proc.stdout
    assert 'to prepare COCO-MLT: COCO2017 under' in proc.stdout and '--img-ids' in proc.stdout
    assert verify(str(tmp_path / 'absent')).stdout.strip() == f'verify_splits: {tmp_path}/absent: not a folder'
