"""DRWHook: deferred re-weighting switches LDAMLoss to effective-number weights at its milestone epoch."""
import logging
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from conftest import REPO, run, tool
from ltmm.engine.hooks import DRWHook
from ltmm.models.losses import LDAMLoss
from ltmm.models.losses.reweighting import effective_number_weights

COUNTS = [100, 20, 5, 1]


def fake_runner(model, epoch):
    return SimpleNamespace(model=model, epoch=epoch, logger=logging.getLogger('drw-test'))


def test_weights_follow_the_epoch_and_survive_resume():
    stats = dict(num_images=sum(COUNTS), image_count=COUNTS, instance_count=COUNTS)
    model = nn.ModuleDict(dict(head=nn.ModuleDict(dict(loss=LDAMLoss(stats)))))
    loss = model['head']['loss']
    hook = DRWHook(milestone=3, beta=0.999)
    cb = effective_number_weights(COUNTS, 0.999)
    assert cb[3] > cb[0] and cb.sum().item() == pytest.approx(4.0)
    for epoch in range(3):  # epochs 0..2 (0-indexed) are unweighted
        hook.before_train_epoch(fake_runner(model, epoch))
        torch.testing.assert_close(loss.class_weight, torch.ones(4))
    for epoch in (3, 4):
        hook.before_train_epoch(fake_runner(model, epoch))
        torch.testing.assert_close(loss.class_weight, cb)
    # a run resumed past the milestone gets the weights at its first epoch; one resumed before it, none
    fresh = nn.ModuleDict(dict(loss=LDAMLoss(stats)))
    DRWHook(milestone=3, beta=0.999).before_train_epoch(fake_runner(fresh, 7))
    torch.testing.assert_close(fresh['loss'].class_weight, cb)
    DRWHook(milestone=3, beta=0.999).before_train_epoch(fake_runner(fresh, 1))
    torch.testing.assert_close(fresh['loss'].class_weight, torch.ones(4))


def test_the_weights_change_the_loss_as_the_official_drw():
    stats = dict(num_images=sum(COUNTS), image_count=COUNTS, instance_count=COUNTS)
    loss = LDAMLoss(stats)
    z, y = torch.tanh(torch.randn(32, 4)), torch.arange(32) % 4
    before = loss(z, y)
    DRWHook(milestone=0).before_train_epoch(fake_runner(loss, 0))
    w = effective_number_weights(COUNTS, 0.9999)
    logits = 30 * (z - loss.margins * nn.functional.one_hot(y, 4))
    torch.testing.assert_close(loss(z, y), nn.functional.cross_entropy(logits, y, weight=w))
    assert not torch.allclose(loss(z, y), before)


def test_errors():
    with pytest.raises(RuntimeError, match='no loss with set_class_weight'):
        DRWHook().before_train_epoch(fake_runner(nn.Linear(2, 2), 0))
    with pytest.raises(ValueError, match='beta'):
        DRWHook(beta=1.0)
    with pytest.raises(ValueError, match='milestone'):
        DRWHook(milestone=-1)


def test_ldam_drw_config_trains_on_digits_lt(cls_workspace):
    """tools/train.py with the LDAM-DRW Digits-LT config: the hook switches at the milestone, validation runs."""
    work = cls_workspace / 'ldam_drw'
    cfg = str(REPO / 'configs/ldam_drw/ldam-drw_lenet_1xb32_digits-lt_30e.py')
    out = run(tool('train.py', cfg, '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=2',
                   'train_cfg.val_interval=2', 'custom_hooks.0.milestone=1'), cls_workspace).stdout
    assert 'DRWHook: epoch 0: unweighted loss' in out
    assert 'DRWHook: epoch 1: class-balanced weights (beta=0.9999) on 1 loss(es)' in out
    assert re.search(r'shot/few: \d', out)
