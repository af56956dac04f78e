"""The small command-line tools: class_stats.py, make_demo_data.py, and the clear errors of train.py / test.py."""
import json
import subprocess

import pytest
import torch

from ..helpers import CLS_CFG, REPO, run, tool

pytestmark = pytest.mark.slow  # every test runs the tools in a subprocess

def test_class_stats_tool_writes_json(tmp_path):
    ann = tmp_path / 'train.txt'
    # 3 images of class 0, 1 of class 2, none of class 1 (counted as 0 with --num-classes 3)
    ann.write_text('a.jpg 0\nb.jpg 0\nsome dir/c.jpg 0\nd.jpg 2\n')
    out = run(tool('data/class_stats.py', str(ann), '--num-classes', '3', '-o', str(tmp_path / 's.json')),
              REPO).stdout
    assert json.loads((tmp_path / 's.json').read_text()) == dict(num_images=4, image_count=[3, 0, 1],
                                                                   instance_count=[3, 0, 1])
    assert 'empty 1' in out

def test_class_stats_tool_missing_file_is_named(tmp_path):
    proc = subprocess.run(tool('data/class_stats.py', str(tmp_path / 'missing.json'), '-o', str(tmp_path / 'o')),
                          capture_output=True, text=True)
    assert proc.returncode != 0 and 'missing.json' in proc.stderr

def test_make_demo_data_keeps_a_finished_folder(tmp_path):
    out_dir = tmp_path / 'digits'
    run(tool('data/make_demo_data.py', 'digits_lt', '--out-dir', str(out_dir)), REPO)
    stamp = (out_dir / 'meta' / 'train.txt').stat().st_mtime_ns
    out = run(tool('data/make_demo_data.py', 'digits_lt', '--out-dir', str(out_dir)), REPO).stdout
    assert 'already generated' in out and (out_dir / 'meta' / 'train.txt').stat().st_mtime_ns == stamp
    out = run(tool('data/make_demo_data.py', 'digits_lt', '--out-dir', str(out_dir), '--seed', '1'), REPO).stdout
    assert 'written' in out

def test_test_tool_names_a_missing_checkpoint(tmp_path):
    proc = subprocess.run(tool('test.py', CLS_CFG, str(tmp_path / 'nope.pth')), capture_output=True, text=True)
    assert proc.returncode != 0 and 'nope.pth' in proc.stderr

def test_train_tool_names_a_missing_config(tmp_path):
    proc = subprocess.run(tool('train.py', str(tmp_path / 'nope.py')), capture_output=True, text=True)
    assert proc.returncode != 0 and 'nope.py' in proc.stderr

@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_amp_without_cuda_is_refused_clearly(tmp_path):
    proc = subprocess.run(tool('train.py', CLS_CFG, '--amp', '--work-dir', str(tmp_path)), capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode != 0 and '--amp needs a CUDA device' in proc.stderr
