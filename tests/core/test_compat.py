"""The stack shims: weights-only checkpoint loading with an allow-list, lvis-api on numpy 2, CPU DDP settings."""
import os
import pickle

import numpy as np
import pytest
import torch

import ltmm.det  # noqa: F401  (a task package applies the shims)
from ltmm.core.compat import CheckpointSecurityError, cpu_ddp_wrapper_cfg, init_distributed


def mmengine_style_checkpoint() -> dict:
    """What mmengine's Runner saves besides weights: message-hub HistoryBuffers and numpy values."""
    from mmengine.logging import HistoryBuffer

    buf = HistoryBuffer()
    buf.update(np.float64(0.5))
    buf.update(1.25)
    return dict(meta=dict(epoch=3, iter=30, seed=np.int64(7), dataset_meta=dict(classes=('a', 'b'))),
                state_dict={'w': torch.ones(2)},
                message_hub=dict(log_scalars={'train/loss': buf},
                                 runtime_info={'epoch': 3, 'arr': np.arange(4, dtype=np.float32)}))


def test_mmengine_checkpoint_loads_weights_only(tmp_path, monkeypatch):
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint

    path = tmp_path / 'epoch_3.pth'
    torch.save(mmengine_style_checkpoint(), path)
    # as in a fresh process (resume): no HistoryBuffer created yet, so its statistics registry is empty
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['seed'] == 7
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == pytest.approx(0.875)
    np.testing.assert_array_equal(ckpt['message_hub']['runtime_info']['arr'], np.arange(4))


def test_allow_list_is_not_widened_globally(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    torch.save(mmengine_style_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


class Payload:
    """Unpickling this runs a shell command: what a malicious checkpoint would carry."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_checkpoint_with_arbitrary_object_is_refused(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'w': torch.ones(1)}, meta=Payload(str(marker))), path)
    with pytest.raises(CheckpointSecurityError, match='evil.pth') as err:
        _load_checkpoint(str(path), map_location='cpu')
    assert 'system' in str(err.value)  # names the refused global
    assert not marker.exists()


def test_lvis_eval_runs_without_leaving_numpy_patched(tmp_path):
    import json

    from lvis import LVISEval

    assert not hasattr(np, 'float')
    cats = [dict(id=1, name='a', frequency='f', image_count=200), dict(id=2, name='b', frequency='r',
                                                                           image_count=3)]
    gt = dict(images=[dict(id=1, height=50, width=50, neg_category_ids=[], not_exhaustive_category_ids=[])],
              annotations=[dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 20, 20], area=400,
                                segmentation=[[10, 10, 30, 10, 30, 30, 10, 30]])],
              categories=cats)
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(gt))
    dets = [dict(image_id=1, category_id=1, bbox=[10, 10, 20, 20], score=0.9)]
    lvis_eval = LVISEval(str(gt_file), dets, 'bbox')
    lvis_eval.run()
    assert lvis_eval.get_results()['APf'] == pytest.approx(1.0)
    assert lvis_eval.get_results()['APr'] == -1  # no rare ground truth in the evaluated images
    assert not hasattr(np, 'float')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_ddp_wrapper_cfg():
    assert cpu_ddp_wrapper_cfg(None) == dict(type='MMDistributedDataParallel', device_ids=None)
    cfg = cpu_ddp_wrapper_cfg(dict(type='MMDistributedDataParallel', find_unused_parameters=True))
    assert cfg == dict(type='MMDistributedDataParallel', find_unused_parameters=True, device_ids=None)


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_init_distributed_errors_are_clear(monkeypatch):
    init_distributed('none')  # nothing to do
    with pytest.raises(RuntimeError, match='needs CUDA'):
        init_distributed('slurm')
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='torchrun'):
        init_distributed('pytorch')


def test_adjust_hue_matches_mmcv_and_takes_negative_factors_under_numpy_2():
    import mmcv
    from mmcv.image import photometric

    import ltmm.cls  # noqa: F401  (applies the patch)
    from ltmm.core.compat import adjust_hue

    img = (np.random.RandomState(0).rand(16, 16, 3) * 255).astype(np.uint8)
    for backend in ('cv2', 'pillow'):
        for hue in (0.0, 0.05, 0.1, 0.5):  # where mmcv works, the same image
            assert np.array_equal(adjust_hue(img, hue, backend), photometric.adjust_hue(img, hue, backend))
        # numpy 1's shift: int(-0.1 * 255) = -25, i.e. +231 mod 256, undone by +25 up to HSV rounding
        back = adjust_hue(adjust_hue(img, -0.1, backend), 0.1, backend)
        assert np.abs(back.astype(int) - img).mean() < 2
    if int(np.__version__.split('.')[0]) >= 2:
        assert mmcv.adjust_hue is adjust_hue
        with pytest.raises(OverflowError):
            photometric.adjust_hue(img, -0.1, 'cv2')  # the mmcv bug the patch routes around
    with pytest.raises(ValueError, match='hue_factor'):
        adjust_hue(img, 0.6)
