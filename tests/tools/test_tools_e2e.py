"""End-to-end CPU smoke of the tools: train -> checkpoint -> --resume -> test, for one detection and one
classification config, a killed run resumed from its last checkpoint, and 2-process gloo DDP via dist_train.sh."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from ..helpers import CLS_CFG, DET_CFG, REPO, free_port, run, tool

pytestmark = pytest.mark.slow  # every test runs the tools in a subprocess


def last_checkpoint(work_dir) -> str:
    return (work_dir / 'last_checkpoint').read_text().strip()


def test_detection_train_resume_test(det_workspace):
    work = det_workspace / 'work'
    run(tool('train.py', DET_CFG, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=1'),
        det_workspace)
    assert last_checkpoint(work).endswith('epoch_1.pth')

    out = run(tool('train.py', DET_CFG, '--work-dir', str(work), '--resume', '--cfg-options',
                   'train_cfg.max_epochs=2'), det_workspace).stdout
    assert 'Auto resumed from the latest checkpoint' in out
    assert 'resumed epoch: 1, iter: 4' in out  # 32 images, batch 8
    assert 'Epoch(train) [1]' not in out and 'Epoch(train) [2]' in out
    assert last_checkpoint(work).endswith('epoch_2.pth')

    out = run(tool('test.py', DET_CFG, last_checkpoint(work), '--work-dir', str(work), '--out',
                   str(work / 'preds.pkl'), '--cfg-options', f'test_evaluator.outfile_prefix={work}/results'),
              det_workspace).stdout
    for key in ('bbox_AP', 'bbox_APr', 'bbox_APc', 'bbox_APf', 'segm_AP', 'segm_APr'):
        assert re.search(rf'lvis/{key}: -?\d', out), key
    assert (work / 'preds.pkl').is_file()
    # the command line on the demo's own result files gives the metric's numbers
    gt = det_workspace / 'data' / 'lt_shapes' / 'annotations' / 'lt_shapes_val.json'
    run([sys.executable, '-m', 'ltmm.core.lvis_eval_cli', str(gt), str(work / 'results.segm.json'), '--iou', 'bbox',
         'segm', '--out', str(work / 'metrics.json')], det_workspace)
    metrics = json.loads((work / 'metrics.json').read_text())
    for iou in ('bbox', 'segm'):
        printed = float(re.search(rf'lvis/{iou}_AP: (-?[\d.]+)', out).group(1))
        assert round(metrics[iou]['AP'], 3) == printed, iou


def test_classification_killed_run_resumes(cls_workspace):
    work = cls_workspace / 'work'
    cmd = tool('train.py', CLS_CFG, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=200',
               'default_hooks.checkpoint.interval=1')
    proc = subprocess.Popen(cmd, cwd=cls_workspace, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 300
        while not (work / 'last_checkpoint').is_file() or last_checkpoint(work).endswith('epoch_1.pth'):
            assert proc.poll() is None and time.time() < deadline, 'training died or never checkpointed'
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    resumed = int(re.search(r'epoch_(\d+)\.pth', last_checkpoint(work)).group(1))
    assert resumed >= 2

    out = run(tool('train.py', CLS_CFG, '--work-dir', str(work), '--resume', '--cfg-options',
                   f'train_cfg.max_epochs={resumed + 1}'), cls_workspace).stdout
    assert f'resumed epoch: {resumed}' in out
    assert 'Epoch(train)   [1]' not in out and f'Epoch(train) [{resumed + 1}]' in out
    assert last_checkpoint(work).endswith(f'epoch_{resumed + 1}.pth')

    out = run(tool('test.py', CLS_CFG, last_checkpoint(work), '--work-dir', str(work), '--cfg-options',
                   f'test_evaluator.plot_dir={work}'), cls_workspace).stdout
    for key in ('many', 'medium', 'few', 'all', 'top1'):
        assert re.search(rf'shot/{key}: \d', out), key
    assert (work / 'per_class_accuracy.png').is_file()


def test_dist_train_and_test_two_processes_gloo(cls_workspace):
    work = cls_workspace / 'dist'
    env = {'PYTHON': tool('train.py')[0], 'PORT': str(free_port())}
    out = run(['bash', str(REPO / 'tools/dist_train.sh'), CLS_CFG, '2', '--work-dir', str(work), '--cfg-options',
               'train_cfg.max_epochs=2', 'train_cfg.val_interval=1'], cls_workspace, env=env).stdout
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert re.search(r'shot/many: \d', out)  # validation gathered over both ranks
    assert last_checkpoint(work).endswith('epoch_2.pth')

    env['PORT'] = str(free_port())
    dist_out = run(['bash', str(REPO / 'tools/dist_test.sh'), CLS_CFG, last_checkpoint(work), '2', '--work-dir',
                    str(work)], cls_workspace, env=env).stdout
    assert 'GPU number: 2' in dist_out
    single_out = run(tool('test.py', CLS_CFG, last_checkpoint(work), '--work-dir', str(work)), cls_workspace).stdout
    # each rank scores half of the test split; gathered, the metrics equal a single-process run's
    metrics = re.compile(r'shot/(\w+): ([\d.]+)')
    assert dict(metrics.findall(dist_out)) == dict(metrics.findall(single_out)) != {}


def test_dist_train_detector_two_processes_gloo(det_workspace):
    work = det_workspace / 'dist'
    out = run(['bash', str(REPO / 'tools/dist_train.sh'), DET_CFG, '2', '--work-dir', str(work), '--cfg-options',
               'train_cfg.max_epochs=1'], det_workspace,
              env={'PYTHON': tool('train.py')[0], 'PORT': str(free_port())}).stdout
    assert 'GPU number: 2' in out
    assert 'Epoch(train) [1][2/2]' in out  # 32 images / (2 ranks x 8 per batch)
    assert re.search(r'lvis/bbox_APf: -?\d', out)
