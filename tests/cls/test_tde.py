"""De-confound / TDE (``CausalNormClsHead``, ``TDEMomentumHook``): the logits against a naive transcription of the
official ``Causal_Norm_Classifier.forward`` (value and gradient), hand-computed cases, the moving average (momentum,
training only), the lr-scaled momentum, the buffer through checkpoints, the 2-rank reduction, and the Digits-LT
config training on CPU."""
import math
from pathlib import Path
from types import SimpleNamespace
from typing import List

import pytest
import torch
import torch.multiprocessing as mp
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.heads import CausalNormClsHead, TDEMomentumHook
from ltmm.cls.heads.causal_norm_cls_head import causal_norm_logits

from ..helpers import REPO, free_port, gloo_process_group


def build(**cfg) -> CausalNormClsHead:
    return MODELS.build(dict(type='CausalNormClsHead', **cfg))


def samples(labels) -> List[DataSample]:
    return [DataSample().set_gt_label(int(y)) for y in labels]


def official_forward(x: torch.Tensor, weight: torch.Tensor, embed: torch.Tensor, num_head: int, tau: float,
                     gamma: float, alpha: float, training: bool) -> torch.Tensor:
    """A line-by-line transcription of the official ``Causal_Norm_Classifier.forward`` (``use_effect=True``)."""
    head_dim = x.shape[1] // num_head
    scale = tau / num_head

    def multi_head(func, t):
        return torch.cat([func(item) for item in torch.split(t, head_dim, dim=1)], dim=1)

    def l2_norm(t):
        return t / torch.norm(t, 2, 1, keepdim=True)

    def causal_norm(t):
        return t / (torch.norm(t, 2, 1, keepdim=True) + gamma)

    normed_w = multi_head(causal_norm, weight)
    normed_x = multi_head(l2_norm, x)
    y = torch.mm(normed_x * scale, normed_w.t())
    if not training:
        normed_c = multi_head(l2_norm, embed.view(1, -1))
        output = []
        for nx, nc, nw in zip(torch.split(normed_x, head_dim, dim=1), torch.split(normed_c, head_dim, dim=1),
                              torch.split(normed_w, head_dim, dim=1)):
            cos_val = (nx * nc).sum(-1, keepdim=True) / torch.norm(nx, 2, 1, keepdim=True) / torch.norm(
                nc, 2, 1, keepdim=True)
            output.append(torch.mm((nx - cos_val * alpha * nc) * scale, nw.t()))
        y = sum(output)
    return y


# ---------------------------------------------------------------- the logits

@pytest.mark.parametrize('num_head,tau,gamma,alpha', [(2, 16.0, 1 / 32, 3.0), (1, 10.0, 0.0, 1.5),
                                                      (4, 16.0, 0.5, 0.7)])
def test_logits_and_gradients_match_the_official_forward(num_head, tau, gamma, alpha):
    gen = torch.Generator().manual_seed(num_head)
    x = torch.rand(5, 8, dtype=torch.float64, generator=gen).requires_grad_()  # post-ReLU features
    w = torch.randn(7, 8, dtype=torch.float64, generator=gen).requires_grad_()
    embed = torch.rand(8, dtype=torch.float64, generator=gen) * 30
    for training in (True, False):
        ours = causal_norm_logits(x, w, num_head, tau, gamma, embed=None if training else embed, alpha=alpha)
        ref = official_forward(x, w, embed, num_head, tau, gamma, alpha, training)
        torch.testing.assert_close(ours, ref)
        up = torch.randn(ref.shape, dtype=torch.float64, generator=gen)
        torch.testing.assert_close(torch.autograd.grad((ours * up).sum(), (x, w)),
                                   torch.autograd.grad((ref * up).sum(), (x, w)))
    assert torch.autograd.gradcheck(lambda a, b: causal_norm_logits(a, b, num_head, tau, gamma, embed, alpha),
                                    (x, w))


def test_head_forward_loss_and_predict_are_the_official_logits():
    torch.manual_seed(0)
    head = build(num_classes=6, in_channels=8, alpha=1.5)
    with torch.no_grad():
        head.embed_mean.copy_(torch.rand(8) * 10)
    x = torch.rand(4, 8)
    args = (head.weight, head.embed_mean, 2, 16.0, 1 / 32, 1.5)
    torch.testing.assert_close(head((x,)), official_forward(x, *args, training=True))
    pred = head.predict((x,))
    torch.testing.assert_close(torch.stack([s.pred_score for s in pred]),
                               official_forward(x, *args, training=False).softmax(dim=1))
    head.eval()
    labels = torch.tensor([0, 5, 5, 2])
    loss = head.loss((x,), samples(labels))['loss']
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(official_forward(x, *args, training=True),
                                                                       labels))


def test_official_initialisation():
    head = build(num_classes=50, in_channels=64)
    assert head.weight.abs().max() <= 1 / 8 and head.weight.abs().max() > 0.1  # U(-1/sqrt(D), 1/sqrt(D))
    assert not any('bias' in name for name, _ in head.named_parameters())


def test_hand_computed_one_head():
    # x = (3, 4): x_hat = (0.6, 0.8); w = [(1, 0), (0, 2)] with gamma 0: unit rows; tau 2, K 1: scale 2
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    x = torch.tensor([[3.0, 4.0]])
    torch.testing.assert_close(causal_norm_logits(x, w, 1, 2.0, 0.0), torch.tensor([[1.2, 1.6]]))
    # direction d = (5, 0): cos = 0.6; alpha 1: x_hat - 0.6 (1, 0) = (0, 0.8); alpha 0.5: (0.3, 0.8)
    d = torch.tensor([5.0, 0.0])
    torch.testing.assert_close(causal_norm_logits(x, w, 1, 2.0, 0.0, d, 1.0), torch.tensor([[0.0, 1.6]]))
    torch.testing.assert_close(causal_norm_logits(x, w, 1, 2.0, 0.0, d, 0.5), torch.tensor([[0.6, 1.6]]))
    # gamma 1/32: the rows are divided by |w| + 1/32
    torch.testing.assert_close(causal_norm_logits(x, w, 1, 2.0, 1 / 32),
                               torch.tensor([[1.2 / (1 + 1 / 32), 1.6 * 2 / (2 + 1 / 32)]]))


def test_hand_computed_two_heads():
    # D = 4 in two chunks: x = (3, 4 | 0, 2) -> (0.6, 0.8 | 0, 1); w_0 = (1, 0 | 0, 1), w_1 = (0, 1 | 1, 0); tau 4,
    # K 2: scale 2. z_0 = 2 (0.6 + 1) = 3.2, z_1 = 2 (0.8 + 0) = 1.6
    w = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    x = torch.tensor([[3.0, 4.0, 0.0, 2.0]])
    torch.testing.assert_close(causal_norm_logits(x, w, 2, 4.0, 0.0), torch.tensor([[3.2, 1.6]]))
    # d = (0, 1 | 1, 1): cos_1 = 0.8, cos_2 = 1 / sqrt(2); alpha 1: chunk 1 (0.6, 0), chunk 2 (-0.5, 0.5)
    # z_0 = 2 (0.6 + 0.5) = 2.2, z_1 = 2 (0 - 0.5) = -1
    d = torch.tensor([0.0, 1.0, 1.0, 1.0])
    torch.testing.assert_close(causal_norm_logits(x, w, 2, 4.0, 0.0, d, 1.0), torch.tensor([[2.2, -1.0]]))
    # the same as the factual logits minus alpha * cos_k times the logits of d_hat_k, head by head
    d_hat = torch.tensor([0.0, 1.0, 2 ** -0.5, 2 ** -0.5])
    cf = 2 * torch.stack([w[:, :2] @ d_hat[:2] * 0.8, w[:, 2:] @ d_hat[2:] * 2 ** -0.5]).sum(0)
    torch.testing.assert_close(causal_norm_logits(x, w, 2, 4.0, 0.0, d, 1.0),
                               causal_norm_logits(x, w, 2, 4.0, 0.0) - cf)


def test_alpha_zero_and_untrained_direction_predict_the_factual_logits():
    torch.manual_seed(0)
    head = build(num_classes=4, in_channels=6, alpha=3.0)
    x = torch.rand(3, 6)
    torch.testing.assert_close(head.predict_logits((x,)), head((x,)))  # embed_mean = 0: no direction yet
    with torch.no_grad():
        head.embed_mean.fill_(1.0)
    assert not torch.allclose(head.predict_logits((x,)), head((x,)))
    torch.testing.assert_close(head.predict_logits((x,), alpha=0.0), head((x,)))


def test_zero_feature_chunk_gives_finite_logits():
    head = build(num_classes=3, in_channels=4)
    with torch.no_grad():
        head.embed_mean.fill_(1.0)
    x = torch.tensor([[0.0, 0.0, 1.0, 2.0]])  # the first chunk all zero (the official code gives NaN)
    assert torch.isfinite(head((x,))).all() and torch.isfinite(head.predict_logits((x,))).all()


def test_a_class_absent_from_the_batch_still_gets_its_softmax_gradient():
    head = build(num_classes=3, in_channels=4)
    loss = head.loss((torch.rand(5, 4),), samples([0, 0, 1, 0, 1]))['loss']
    loss.backward()
    assert head.weight.grad[2].abs().sum() > 0


def test_bad_arguments_and_inputs():
    for kwargs, message in [(dict(in_channels=7, num_head=2), 'not divisible'), (dict(tau=0.0), 'tau'),
                            (dict(gamma=-0.1), 'gamma'), (dict(alpha=-1.0), 'alpha'), (dict(alpha=math.nan), 'alpha'),
                            (dict(momentum=1.5), 'momentum'), (dict(num_head=0), 'num_head')]:
        with pytest.raises(ValueError, match=message):
            build(**{**dict(num_classes=3, in_channels=8), **kwargs})
    head = build(num_classes=3, in_channels=8)
    with pytest.raises(ValueError, match=r'in_channels=8\), got \(2, 6\)'):
        head((torch.rand(2, 6),))


# ---------------------------------------------------------------- the moving average

def test_moving_average_update_in_training_only():
    head = build(num_classes=3, in_channels=4, momentum=0.9)
    x1, x2 = torch.rand(5, 4), torch.rand(3, 4)
    head.train()
    head.loss((x1,), samples([0, 1, 2, 0, 1]))
    torch.testing.assert_close(head.embed_mean, x1.mean(0))
    head.loss((x2,), samples([0, 1, 2]))
    expected = 0.9 * x1.mean(0) + x2.mean(0)  # no (1 - momentum) factor
    torch.testing.assert_close(head.embed_mean, expected)
    head((x1,))
    head.predict((x1,))  # neither forward nor predict update it, in any mode
    head.eval()
    head.loss((x1,), samples([0, 1, 2, 0, 1]))
    head.predict((x2,))
    torch.testing.assert_close(head.embed_mean, expected)
    assert head.embed_mean.dtype == torch.float32 and not head.embed_mean.requires_grad


def test_moving_average_takes_no_gradient_and_low_precision_features():
    head = build(num_classes=3, in_channels=4)
    x = torch.rand(2, 4, dtype=torch.float64, requires_grad=True)
    head.update_embed(x)
    assert head.embed_mean.dtype == torch.float32 and head.embed_mean.grad_fn is None
    head.update_embed(torch.rand(2, 4, dtype=torch.bfloat16))
    assert torch.isfinite(head.embed_mean).all()


def test_moving_average_uses_the_lr_scaled_momentum():
    head = build(num_classes=3, in_channels=4, momentum=0.9)
    x1, x2 = torch.rand(5, 4), torch.rand(3, 4)
    head.update_embed(x1)
    head.scale_momentum(0.004)  # 1 - 0.1 * min(50 * 0.004, 1) = 0.98
    head.update_embed(x2)
    torch.testing.assert_close(head.embed_mean, 0.98 * x1.mean(0) + x2.mean(0))


def fake_runner(model: torch.nn.Module, lrs: dict) -> SimpleNamespace:
    return SimpleNamespace(model=model, optim_wrapper=SimpleNamespace(get_lr=lambda: lrs))


@pytest.mark.parametrize('lrs,momentum', [({'lr': [0.2]}, 0.9), ({'lr': [0.02]}, 0.9), ({'lr': [0.01]}, 0.95),
                                          ({'lr': [0.001, 0.01]}, 0.95), ({'a.lr': [0.001], 'b.lr': [0.002]}, 0.99),
                                          ({'lr': [0.0]}, 1.0)])
def test_momentum_hook_scales_the_momentum_by_the_largest_lr(lrs, momentum):
    model = torch.nn.Sequential(torch.nn.Identity(), build(num_classes=3, in_channels=4))
    TDEMomentumHook().before_train_epoch(fake_runner(model, lrs))
    assert model[1].momentum_now == pytest.approx(momentum)
    assert model[1].momentum == 0.9


def test_momentum_hook_needs_a_causal_norm_head():
    with pytest.raises(RuntimeError, match='no CausalNormClsHead'):
        TDEMomentumHook().before_train_epoch(fake_runner(torch.nn.Linear(2, 2), {'lr': [0.1]}))
    with pytest.raises(ValueError, match='lr_scale'):
        TDEMomentumHook(lr_scale=0)


def test_state_dict_round_trip():
    head = build(num_classes=3, in_channels=4)
    head.loss((torch.rand(6, 4),), samples([0, 1, 2, 0, 1, 2]))
    state = head.state_dict()
    assert set(state) == {'weight', 'embed_mean'}
    fresh = build(num_classes=3, in_channels=4)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.embed_mean, head.embed_mean)
    x = torch.rand(2, 4)
    torch.testing.assert_close(fresh.predict_logits((x,)), head.predict_logits((x,)))


# ---------------------------------------------------------------- two ranks

RANK_BATCHES = (5, 3)  # different batch sizes: the reduction is the mean over the global batch
ITERATIONS = 3


def rank_feats(rank: int, iteration: int) -> torch.Tensor:
    return torch.rand(RANK_BATCHES[rank], 4, generator=torch.Generator().manual_seed(10 * rank + iteration)) * 5


def rank_labels(rank: int) -> List[DataSample]:
    return samples([i % 3 for i in range(RANK_BATCHES[rank])])


def worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    with gloo_process_group(rank, world_size, port):
        heads = [build(num_classes=3, in_channels=4, sync=sync) for sync in (True, False)]
        for it in range(ITERATIONS):
            for head in heads:
                head.loss((rank_feats(rank, it),), rank_labels(rank))
        torch.save([h.embed_mean for h in heads], Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks_keep_the_same_global_batch_average(tmp_path):
    mp.start_processes(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    (sync0, local0), (sync1, local1) = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    assert torch.equal(sync0, sync1)
    expected, alone = torch.zeros(4), torch.zeros(4)
    for it in range(ITERATIONS):
        expected = 0.9 * expected + torch.cat([rank_feats(0, it), rank_feats(1, it)]).mean(0)
        alone = 0.9 * alone + rank_feats(0, it).mean(0)
    torch.testing.assert_close(sync0, expected)  # = one process over the concatenated batches (DataParallel)
    torch.testing.assert_close(local0, alone)  # sync=False: each rank its own
    assert not torch.allclose(local0, local1)


# ---------------------------------------------------------------- the Digits-LT config

DIGITS_CONFIG = REPO / 'configs/tde/tde_lenet_1xb32_digits-lt_30e.py'


def digits_cfg(workspace: Path, work_dir: Path, **options):
    from mmengine.config import Config

    cfg = Config.fromfile(str(DIGITS_CONFIG))
    root = str(workspace / 'data' / 'digits_lt') + '/'
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root, 'val_evaluator.class_stats': root + 'meta/train.txt',
        'test_evaluator.class_stats': root + 'meta/train.txt', 'train_dataloader.dataset.indices': 64,
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0, 'test_dataloader.persistent_workers': False,
        'default_hooks.checkpoint': dict(type='CheckpointHook', interval=1), 'default_hooks.logger.interval': 1,
        **options})
    cfg.launcher, cfg.work_dir = 'none', str(work_dir)
    return cfg


def head_of(runner) -> CausalNormClsHead:
    return runner.model.head


@pytest.mark.slow
def test_digits_config_trains_and_checkpoints_the_direction(cls_workspace, tmp_path):
    """Two iterations a epoch on CPU: the loss is finite, the direction is updated with the hook's momentum, the
    checkpoint holds it, a resumed run continues from it and a test run from the checkpoint predicts with it."""
    from ltmm.engine import build_runner

    runner = build_runner(digits_cfg(cls_workspace, tmp_path / 'a', **{
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1}))
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    head = head_of(runner)
    assert head.embed_mean.abs().sum() > 0 and torch.isfinite(head.embed_mean).all()
    assert head.momentum_now == pytest.approx(0.9)  # lr 0.05: 50 * lr >= 1
    saved = torch.load(tmp_path / 'a' / 'epoch_1.pth', map_location='cpu', weights_only=False)['state_dict']
    torch.testing.assert_close(saved['head.embed_mean'], head.embed_mean)

    resumed = build_runner(digits_cfg(cls_workspace, tmp_path / 'b', **{
        'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 2, 'resume': True,
        'load_from': str(tmp_path / 'a' / 'epoch_1.pth')}))
    resumed.load_or_resume()
    assert resumed.epoch == 1
    torch.testing.assert_close(head_of(resumed).embed_mean, head.embed_mean)
    resumed.train()
    assert resumed.epoch == 2 and not torch.allclose(head_of(resumed).embed_mean, head.embed_mean)

    tester = build_runner(digits_cfg(cls_workspace, tmp_path / 'c', load_from=str(tmp_path / 'a' / 'epoch_1.pth')))
    metrics = tester.test()
    torch.testing.assert_close(head_of(tester).embed_mean, head.embed_mean)  # restored, not updated by testing
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key

