"""Deferred re-weighting lives in the loss (``drw=dict(start_epoch, beta)``); ``LossEpochHook`` only tells it the
epoch; its weights and switch are buffers, so a checkpoint holds the phase and a resumed run continues in it. The
pre-0.2 ``DRWHook(milestone, beta)`` still configures the loss."""
import logging
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from ltmm.cls.hooks import DRWHook, LossEpochHook
from ltmm.cls.losses import LDAMLoss, RIDELoss

from ..helpers import REPO, run, tool

COUNTS = [100, 20, 5, 1]
STATS = dict(num_images=sum(COUNTS), image_count=COUNTS, instance_count=COUNTS)
LDAM_DRW_DIGITS = str(REPO / 'configs/ldam_drw/ldam-drw_lenet_1xb32_digits-lt_30e.py')


def fake_runner(model, epoch=0):
    return SimpleNamespace(model=model, epoch=epoch, logger=logging.getLogger('drw-test'))


def cb_weights(beta):
    """Effective-number weights written out: (1 - beta) / (1 - beta^n), rescaled to sum to C."""
    n = torch.tensor(COUNTS, dtype=torch.float64)
    w = (1 - beta) / (1 - beta ** n)
    return (w / w.sum() * len(COUNTS)).float()


def test_weights_follow_the_epoch_the_hook_tells():
    model = nn.ModuleDict(dict(head=nn.ModuleDict(dict(loss=LDAMLoss(STATS, drw=dict(start_epoch=3, beta=0.999))))))
    loss = model['head']['loss']
    hook = LossEpochHook()
    assert cb_weights(0.999)[3] > cb_weights(0.999)[0]
    torch.testing.assert_close(loss.class_weight, torch.ones(4))  # before any epoch: the first phase
    for epoch in range(3):  # epochs 0..2 (0-indexed) are unweighted
        hook.before_train_epoch(fake_runner(model, epoch))
        torch.testing.assert_close(loss.class_weight, torch.ones(4))
        assert not loss.drw.active and int(loss.drw.epoch) == epoch
    for epoch in (3, 4):
        hook.before_train_epoch(fake_runner(model, epoch))
        torch.testing.assert_close(loss.class_weight, cb_weights(0.999))
        assert loss.drw.active
    hook.before_train_epoch(fake_runner(model, 1))  # a run resumed before the switch
    torch.testing.assert_close(loss.class_weight, torch.ones(4))


@pytest.mark.parametrize('make', [lambda: LDAMLoss(STATS, drw=dict(start_epoch=2)),
                                  lambda: RIDELoss(STATS, drw=dict(start_epoch=2))])
def test_the_checkpoint_holds_the_phase(make):
    trained = make()
    trained.drw.set_epoch(5)
    state = trained.state_dict()
    assert {'drw.class_weight', 'drw.active', 'drw.epoch'} <= set(state)
    resumed = make()
    resumed.load_state_dict(state)  # no epoch told yet: the phase comes from the checkpoint
    assert resumed.drw.active and int(resumed.drw.epoch) == 5
    torch.testing.assert_close(resumed.class_weight, cb_weights(0.9999))
    z, y = torch.tanh(torch.randn(6, 2, 4)) * 30, torch.tensor([0, 1, 2, 3, 0, 3])
    if isinstance(trained, LDAMLoss):
        z = z[:, 0] / 30
    torch.testing.assert_close(resumed(z, y, avg_factor=6), trained(z, y, avg_factor=6))


def test_the_weights_change_the_loss_as_the_official_drw():
    loss = LDAMLoss(STATS, drw=dict(start_epoch=0))
    z, y = torch.tanh(torch.randn(32, 4)), torch.arange(32) % 4
    before = loss(z, y)
    LossEpochHook().before_train_epoch(fake_runner(loss, 0))
    logits = 30 * (z - loss.margins * nn.functional.one_hot(y, 4))
    torch.testing.assert_close(loss(z, y), nn.functional.cross_entropy(logits, y, weight=cb_weights(0.9999)))
    assert not torch.allclose(loss(z, y), before)


def test_pre_0_2_drw_hook_hands_its_schedule_to_the_loss():
    model = nn.ModuleDict(dict(loss=LDAMLoss(STATS)))
    hook = DRWHook(milestone=2, beta=0.999)
    with pytest.warns(DeprecationWarning, match='pre-0.2'):
        hook.before_run(fake_runner(model))
    assert (model['loss'].drw.start_epoch, model['loss'].drw.beta) == (2, 0.999)
    hook.before_train_epoch(fake_runner(model, 2))
    torch.testing.assert_close(model['loss'].class_weight, cb_weights(0.999))
    # the same schedule on the loss is fine, another is an error
    DRWHook(milestone=2, beta=0.999).before_run(fake_runner(model))
    with pytest.raises(ValueError, match='disagree'):
        DRWHook(milestone=4, beta=0.999).before_run(fake_runner(model))
    DRWHook().before_run(fake_runner(nn.Linear(2, 2)))  # without milestone: a LossEpochHook


def test_errors():
    with pytest.raises(RuntimeError, match='no module with set_epoch'):
        LossEpochHook().before_train_epoch(fake_runner(nn.Linear(2, 2), 0))
    with pytest.raises(RuntimeError, match='no loss that supports deferred re-weighting'):
        DRWHook(milestone=1).before_run(fake_runner(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match='beta'):
        DRWHook(milestone=3, beta=1.0)
    with pytest.raises(ValueError, match='start_epoch'):
        DRWHook(milestone=-1)


def drw_state(checkpoint):
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    return bool(state['head.loss_module.drw.active']), int(state['head.loss_module.drw.epoch'])


@pytest.mark.slow
def test_resume_across_the_switch_epoch(cls_workspace):
    """LDAM-DRW on Digits-LT switching at epoch 1 (0-indexed): the epoch-1 checkpoint (after epoch 0) is unweighted;
    a run resumed from it re-weights from its first iteration, as the uninterrupted run does."""
    work = cls_workspace / 'ldam_drw_resume'
    common = ['--work-dir', str(work), '--cfg-options', 'model.head.loss.drw.start_epoch=1', 'train_cfg.val_interval=9',
              'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=3']
    out = run(tool('train.py', LDAM_DRW_DIGITS, *common, 'train_cfg.max_epochs=1'), cls_workspace).stdout
    assert 'DRW: epoch 0: unweighted (re-weighting from epoch 1)' in out
    assert drw_state(work / 'epoch_1.pth') == (False, 0)
    out = run(tool('train.py', LDAM_DRW_DIGITS, '--resume', str(work / 'epoch_1.pth'), *common,
                   'train_cfg.max_epochs=2'), cls_workspace).stdout
    assert 'DRW: epoch 1: class-balanced weights (beta=0.9999)' in out
    assert drw_state(work / 'epoch_2.pth') == (True, 1)


@pytest.mark.slow
def test_ldam_drw_config_trains_on_digits_lt(cls_workspace):
    """tools/train.py with the LDAM-DRW Digits-LT config: the loss switches at its start epoch, validation runs."""
    work = cls_workspace / 'ldam_drw'
    out = run(tool('train.py', LDAM_DRW_DIGITS, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=2',
                   'train_cfg.val_interval=2', 'model.head.loss.drw.start_epoch=1'), cls_workspace).stdout
    assert 'DRW: epoch 0: unweighted (re-weighting from epoch 1)' in out
    assert 'DRW: epoch 1: class-balanced weights (beta=0.9999)' in out
    assert re.search(r'shot/few: \d', out)
