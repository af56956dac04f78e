"""CC-SAM (``CCSAMClsHead``, Zhou et al., CVPR 2023): both stages against naive transcriptions of the official
``train_cifar.py`` loops (loss value and the gradients of the classifier and of the features, with and without mixup);
one training step equal to a hand-written SAM step (ascent gradient of the classifier, perturbation, descent gradient
at the perturbed weights, restore, SGD step) for a one-class and a two-class batch (per-class radii); the radius and
the stage-2 weights and ramp by hand; edge cases and errors; the AMP path (mmengine's AmpOptimWrapper with a CPU grad
scaler and CPU bfloat16 autocast); a 2-process gloo DDP step equal to the 1-process step on the concatenated batch;
checkpoints and resume; the configs' schedules against the official ones and the Digits-LT configs training on CPU."""
import copy
import math
from pathlib import Path
from typing import List, Optional

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ltmm.cls  # noqa: F401
from ltmm.cls.heads import CCSAMClsHead
from ltmm.cls.heads import ccsam_cls_head as ccsam
from ltmm.cls.hooks import LossEpochHook
from ltmm.engine import build_runner

from ..helpers import REPO, free_port, gloo_process_group
from .test_decoupled import digits_config

CCSAM = REPO / 'configs' / 'ccsam'
COUNTS = [60, 20, 7, 3]


def stats(counts=COUNTS):
    return dict(num_images=sum(counts), image_count=list(counts), instance_count=list(counts))


def build(**cfg) -> CCSAMClsHead:
    cfg = dict(dict(num_classes=len(COUNTS), in_channels=5, class_stats=stats()), **cfg)
    return MODELS.build(dict(type='CCSAMClsHead', **cfg)).double()


def samples(labels, scores=None) -> List[DataSample]:
    out = [DataSample().set_gt_label(int(y)) for y in labels]
    if scores is not None:
        for s, score in zip(out, scores):
            s.set_gt_score(score)
    return out


def feats(n=9, d=5, seed=0):
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 2


LABELS = torch.tensor([0, 1, 1, 2, 0, 3, 1, 0, 2])  # a one-sample class (3) and a class with three


# ------------------------------------------------------------ naive transcriptions of the official loops

def official_stage1(fea: torch.Tensor, clf: nn.Linear, y: torch.Tensor, counts, noise_ratio: float,
                    flat_ratio: float, y_b: Optional[torch.Tensor] = None, lam: float = 1.0) -> torch.Tensor:
    """zzpustc/CC-SAM train_cifar.py ``train``, lines 129-185, on the features of one forward pass."""
    o = clf(fea)
    loss_ori = F.cross_entropy(o, y, reduction='none')
    if y_b is not None:  # mixup_criterion
        loss_ori = lam * loss_ori + (1 - lam) * F.cross_entropy(o, y_b, reduction='none')
    y_in = y.numpy()
    disturb_params = list(clf.parameters())
    origin_params = copy.deepcopy(disturb_params)
    params_num = sum(p.numel() for p in clf.parameters())
    grad_list = {}
    for y_tmp in np.unique(y_in):
        idx = np.where(y_in == y_tmp)
        grad_list[str(y_tmp)] = list(torch.autograd.grad(loss_ori[idx].mean(), disturb_params, retain_graph=True))
    param_norm = torch.norm(torch.stack([p.norm(p=2) for p in disturb_params]), p=2) + 1e-12
    loss_list = []
    for y_tmp in np.unique(y_in):
        idx = np.where(y_in == y_tmp)
        for c, param in enumerate(disturb_params):
            grad_c = grad_list[str(y_tmp)][c]
            grad_c_norm = torch.norm(grad_c)
            rho_c = (noise_ratio * torch.sqrt(param_norm) / torch.sqrt(grad_c_norm) / np.sqrt(2)
                     / np.sqrt(np.sqrt(counts[y_tmp] - 1)) / np.sqrt(np.sqrt(params_num)))
            param.data = param.data + rho_c * 1.0 * (grad_c / grad_c_norm) * np.sqrt(params_num)
        loss_list.extend(F.cross_entropy(clf(fea[idx]), y[idx], reduction='none'))
        for i in range(len(disturb_params)):
            disturb_params[i].data = origin_params[i].data.clone()
    return (1 - flat_ratio) * loss_ori.mean() + flat_ratio * torch.stack(loss_list).mean()


def official_stage2(fea: torch.Tensor, clf: nn.Linear, y: torch.Tensor, class_weights, alpha: float,
                    adver_reg: float = 1.0) -> torch.Tensor:
    """train_cifar.py ``train_sample`` (sampler 'Decoup'), lines 52-83; ``fea`` a leaf that requires grad."""
    o = clf(fea)
    loss_ori = F.cross_entropy(o, y, reduction='none')
    y_in = y.numpy()
    loss_list = []
    for y_tmp in np.unique(y_in):
        idx = np.where(y_in == y_tmp)
        loss_cls_spc = loss_ori[idx]
        if len(idx[0]) > 1:
            loss_cls_spc = loss_ori[idx].mean()
        fea_grad = torch.autograd.grad(loss_cls_spc, fea, retain_graph=True, allow_unused=True)[0]
        fea_grad = fea_grad / torch.norm(fea_grad)
        noise = adver_reg * fea_grad * class_weights[y_tmp]
        loss_tmp = F.cross_entropy(clf(fea + noise), y, reduction='none') * class_weights[y_tmp]
        loss_list.extend(loss_tmp[idx])
    return alpha * torch.stack(loss_list).mean() + (1 - alpha) * loss_ori.mean()


def official_class_weights(counts, div=2.0) -> np.ndarray:
    """utils/utils.py ``pre_compute_class_ratio`` line 102."""
    ratios = np.array(counts)
    return np.log(ratios.max() / ratios + 0.01) / div


def grads_of(loss, *tensors):
    return torch.autograd.grad(loss, tensors)


# ------------------------------------------------------------ stage 1

@pytest.mark.parametrize('noise_ratio', [1e-6, 0.3])
@pytest.mark.parametrize('flat_ratio', [0.5, 0.3, 1.0])
@pytest.mark.parametrize('mixup', [False, True])
def test_stage1_matches_the_official_loop(noise_ratio, flat_ratio, mixup):
    """Value and gradients (classifier weight and bias, features) of the stage-1 loss, hard labels and mixup (the
    un-mixed label groups the classes and labels the flat loss); r = 0.3 makes the perturbation large enough to
    matter (the official 1e-6 moves the logits by ~1e-6)."""
    head = build(stage=1, noise_ratio=noise_ratio, flat_ratio=flat_ratio,
                 loss=dict(type='CrossEntropyLoss', use_soft=mixup))
    h = feats().requires_grad_(True)
    y_b, lam, scores = None, 1.0, None
    if mixup:
        y_b, lam = LABELS[torch.tensor([3, 0, 5, 1, 2, 8, 7, 6, 4])], 0.37
        scores = lam * F.one_hot(LABELS, 4).double() + (1 - lam) * F.one_hot(y_b, 4).double()
    losses = head.loss((h,), samples(LABELS, scores))
    assert set(losses) == {'loss_ori', 'loss_flat'}
    ours = sum(losses.values())
    clf = copy.deepcopy(head.fc)
    fea = h.detach().clone().requires_grad_(True)
    ref = official_stage1(fea, clf, LABELS, COUNTS, noise_ratio, flat_ratio, y_b, lam)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads_of(ours, head.fc.weight, head.fc.bias, h), grads_of(ref, clf.weight, clf.bias, fea)):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_stage1_with_official_noise_is_almost_the_unperturbed_loss():
    """With r = 1e-6 (the official value) the flat loss is CE of the un-perturbed logits up to ~1e-6."""
    head = build(stage=1)
    losses = head.loss((feats(),), samples(LABELS))
    plain = F.cross_entropy(head.fc(feats()), LABELS)
    assert abs(losses['loss_flat'].item() / 0.5 - plain.item()) < 1e-4
    assert losses['loss_flat'].item() / 0.5 != plain.item()


def test_radius_by_hand():
    """rho = r sqrt(|theta|) / (sqrt(|g|) sqrt(2) (n - 1)^(1/4) P^(1/4)): |theta| = 9, P = 16, r = 1."""
    rho = ccsam.class_conditional_rho(torch.tensor([5.0, 2.0]), torch.tensor([4.0, 1.0]), torch.tensor(9.0), 16, 1.0)
    torch.testing.assert_close(rho, torch.tensor([3 / (2 * math.sqrt(2) * math.sqrt(2) * 2), 3 / (math.sqrt(2) * 2)]))
    # the rarer class gets the larger radius at equal gradient norm: (n - 1)^(-1/4)
    rho = ccsam.class_conditional_rho(torch.tensor([501.0, 6.0]), torch.tensor([1.0, 1.0]), torch.tensor(1.0), 1, 1.0)
    torch.testing.assert_close(rho[1] / rho[0], torch.tensor((500 / 5) ** 0.25))


class Tiny(BaseModel):
    """A linear+ReLU body under a CC-SAM head: ``train_step`` is mmengine's own."""

    def __init__(self, head_cfg: dict, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Linear(6, 5)
        self.head = MODELS.build(head_cfg)
        self.double()

    def forward(self, inputs, data_samples=None, mode='loss'):
        return self.head.loss((torch.relu(self.body(inputs)),), data_samples)


def tiny_head_cfg(**cfg) -> dict:
    return dict(type='CCSAMClsHead', num_classes=len(COUNTS), in_channels=5, class_stats=stats(), **cfg)


def tiny_batch(labels, seed=1) -> dict:
    x = torch.randn(len(labels), 6, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return dict(inputs=x, data_samples=samples(labels))


def sgd_step(model: BaseModel, batch: dict, lr=0.1, momentum=0.0, weight_decay=0.0) -> dict:
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay))
    model.train_step(batch, wrapper)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def hand_written_sam_step(model: Tiny, x: torch.Tensor, y: torch.Tensor, counts, r: float, phi: float,
                          lr: float) -> dict:
    """SAM on the classifier, class by class: ascent gradient of class c's mean loss with respect to (W, b); per-tensor
    radius rho_{c,p} and eps_{c,p} = rho_{c,p} sqrt(P) g_{c,p} / |g_{c,p}|; descent: the gradient of class c's
    losses at (W, b) + eps_c; restore; one SGD step on (1 - phi) grad L(theta) + phi grad mean_i l_i(theta + eps)."""
    model = copy.deepcopy(model)
    fc = model.head.fc
    params = list(model.parameters())
    num_params = fc.weight.numel() + fc.bias.numel()
    theta_norm = torch.sqrt(fc.weight.pow(2).sum() + fc.bias.pow(2).sum()).detach() + 1e-12
    total = [torch.zeros_like(p) for p in params]
    plain = F.cross_entropy(fc(torch.relu(model.body(x))), y)  # L(theta)
    for t, g in zip(total, torch.autograd.grad(plain, params)):
        t += (1 - phi) * g
    for c in y.unique().tolist():
        rows = y == c
        ascent = torch.autograd.grad(F.cross_entropy(fc(torch.relu(model.body(x[rows]))), y[rows]),
                                     [fc.weight, fc.bias])
        eps = []
        for g in ascent:
            rho = r * theta_norm.sqrt() / (g.norm().sqrt() * math.sqrt(2) * (counts[c] - 1) ** 0.25
                                           * num_params ** 0.25)
            eps.append(rho * math.sqrt(num_params) * g / g.norm())
        with torch.no_grad():  # ascent step
            fc.weight += eps[0]
            fc.bias += eps[1]
        descent = F.cross_entropy(fc(torch.relu(model.body(x[rows]))), y[rows], reduction='sum') / len(y)
        for t, g in zip(total, torch.autograd.grad(descent, params)):
            t += phi * g
        with torch.no_grad():  # restore
            fc.weight -= eps[0]
            fc.bias -= eps[1]
    with torch.no_grad():
        for p, g in zip(params, total):
            p -= lr * g
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize('labels', [[2, 2, 2, 2, 2], [0, 3, 0, 0, 3, 0]], ids=['one-class', 'two-class'])
@pytest.mark.parametrize('phi', [1.0, 0.5])
def test_training_step_is_a_hand_written_sam_step(labels, phi):
    """One optimiser step of mmengine's train_step (OptimWrapper, plain SGD) equals the hand-written SAM step, with
    one class (SAM on the classifier with that class's radius) and with two classes (each its own radius)."""
    model = Tiny(tiny_head_cfg(noise_ratio=0.5, flat_ratio=phi))
    plain = copy.deepcopy(model)
    batch = tiny_batch(labels)
    want = hand_written_sam_step(model, batch['inputs'], torch.tensor(labels), COUNTS, 0.5, phi, lr=0.1)
    got = sgd_step(model, batch, lr=0.1)
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-10, atol=1e-12)
    plain.head.flat_ratio = 0.0  # and the perturbation matters: plain CE takes another step
    assert not torch.allclose(sgd_step(plain, batch)['head.fc.weight'], got['head.fc.weight'])


def test_logit_shift_edge_cases():
    """A class absent from the batch does not matter; a class whose gradient is exactly zero is not perturbed; the
    shift of a batch is the shift of its rows queried one by one."""
    h, w, b = feats(6), torch.randn(4, 5, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    res = torch.softmax(h @ w.T + b, 1) - F.one_hot(y, 4)
    counts = torch.tensor(COUNTS, dtype=torch.float64)
    shift = ccsam.ccsam_logit_shift(h, y, h, res, y, w, b, counts, 0.3)
    assert torch.isfinite(shift).all() and shift.abs().min(dim=1).values.gt(0).all()
    for i in range(6):
        torch.testing.assert_close(ccsam.ccsam_logit_shift(h[i:i + 1], y[i:i + 1], h, res, y, w, b, counts, 0.3),
                                   shift[i:i + 1])
    res[y == 1] = 0  # class 1 fits exactly: its gradient is zero
    zero = ccsam.ccsam_logit_shift(h, y, h, res, y, w, b, counts, 0.3)
    assert torch.equal(zero[y == 1], torch.zeros(2, 4, dtype=torch.float64))
    torch.testing.assert_close(zero[y != 1], shift[y != 1])
    no_bias = ccsam.ccsam_logit_shift(h, y, h, res, y, w, None, counts, 0.3)  # a classifier without bias
    assert torch.isfinite(no_bias).all()


# ------------------------------------------------------------ stage 2

@pytest.mark.parametrize('epoch,alpha', [(0, 1 / 30), (4, 5 / 30), (8, 0.3), (29, 0.3)])
def test_stage2_matches_the_official_loop(epoch, alpha):
    head = build(stage=2)
    head.set_epoch(epoch)
    assert head.adv_ratio == pytest.approx(alpha)
    h = feats().requires_grad_(True)
    losses = head.loss((h,), samples(LABELS))
    assert set(losses) == {'loss_ori', 'loss_adv'}
    ours = sum(losses.values())
    clf = copy.deepcopy(head.fc)
    fea = h.detach().clone().requires_grad_(True)
    ref = official_stage2(fea, clf, LABELS, official_class_weights(COUNTS), alpha)
    torch.testing.assert_close(ours, ref, rtol=1e-7, atol=1e-9)  # the weights are float32 buffers
    for got, want in zip(grads_of(ours, head.fc.weight, head.fc.bias, h), grads_of(ref, clf.weight, clf.bias, fea)):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-8)


def test_stage2_weights_and_ramp_by_hand():
    """CIFAR-100-LT IF 100: w = ln(500 / 500 + 0.01) / 2 = 0.004975 for the head class, ln(100.01) / 2 = 2.3026
    for the tail; a_e = min((e + 1) / 30, 0.3)."""
    counts = [int(500 * 0.01 ** (i / 99)) for i in range(100)]
    w = ccsam.adversarial_class_weights(counts)
    torch.testing.assert_close(w[[0, 99]], torch.tensor([math.log(1.01) / 2, math.log(100.01) / 2]))
    assert w.dtype == torch.float32 and bool((w[1:] >= w[:-1]).all())
    ramp = [ccsam.adversarial_ratio(e) for e in (0, 1, 7, 8, 9, 29)]
    assert ramp == pytest.approx([1 / 30, 2 / 30, 8 / 30, 0.3, 0.3, 0.3])
    assert ccsam.adversarial_ratio(3, num_epochs=10, max_ratio=1.0) == pytest.approx(0.4)


def test_loss_epoch_hook_sets_the_stage2_epoch():
    head = build(stage=2)
    runner = type('R', (), {'model': nn.Sequential(head), 'epoch': 6})()
    LossEpochHook().before_train_epoch(runner)
    assert head.epoch == 6 and head.adv_ratio == pytest.approx(7 / 30)


# ------------------------------------------------------------ errors

def test_errors():
    with pytest.raises(ValueError, match=r'class index \[3\] has \[1\]'):
        build(class_stats=stats([60, 20, 7, 1]))  # stage 1: (n - 1)^(-1/4)
    build(stage=2, class_stats=stats([60, 20, 7, 1]))  # stage 2 only needs n >= 1
    with pytest.raises(ValueError, match=r'class index \[2\] has \[0\]'):
        build(stage=2, class_stats=stats([60, 20, 0, 1]))
    with pytest.raises(ValueError, match='4 classes but num_classes=5'):
        build(num_classes=5)
    for bad, match in ((dict(stage=3), 'stage must be one of'), (dict(flat_ratio=1.5), 'flat_ratio'),
                       (dict(noise_ratio=-1.0), 'noise_ratio'), (dict(max_adv_ratio=2.0), 'max_adv_ratio'),
                       (dict(adv_epochs=0), 'adv_epochs'), (dict(adv_strength=float('inf')), 'adv_strength'),
                       (dict(stage=2, weight_div=0.0), 'div must be positive')):
        with pytest.raises(ValueError, match=match):
            build(**bad)
    head = build()
    head.loss_module.forward = lambda *args, **kwargs: torch.tensor(1.0)  # a loss that ignores reduction_override
    with pytest.raises(ValueError, match='needs a per-sample loss'):
        head.loss((feats(),), samples(LABELS))
    with pytest.raises(ValueError, match='cal_acc is pointless'):
        build(cal_acc=True).loss((feats(2),), samples([0, 1], torch.ones(2, 4) / 4))
    with_acc = build(cal_acc=True, topk=(1, 2)).loss((feats(),), samples(LABELS))
    assert set(with_acc) == {'loss_ori', 'loss_flat', 'accuracy_top-1', 'accuracy_top-2'}
    with pytest.raises(ValueError, match='needs the gt_label'):
        build().loss((feats(2),), [DataSample().set_gt_score(torch.ones(4) / 4)] * 2)


# ------------------------------------------------------------ AMP

@pytest.fixture
def amp_wrapper(monkeypatch):
    """mmengine's AmpOptimWrapper on the CPU: its CUDA check lifted, a CPU ``torch.amp.GradScaler``."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper

    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)

    def make(model: nn.Module, init_scale=2.0 ** 16, **kwargs):
        wrapper = amp_optimizer_wrapper.AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                                        **kwargs)
        wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=init_scale)
        return wrapper

    return make


def float_tiny(**cfg) -> Tiny:
    return Tiny(tiny_head_cfg(noise_ratio=0.5, **cfg)).float()


def float_batch(labels, seed=1) -> dict:
    batch = tiny_batch(labels, seed)
    batch['inputs'] = batch['inputs'].float()
    return batch


@pytest.mark.parametrize('stage', [1, 2])
def test_loss_scale_does_not_change_the_step(amp_wrapper, stage):
    """The grad scaler multiplies the loss by 2^16 and unscales before the step; the perturbation is built from the
    unscaled per-sample losses, so the step equals the unscaled one (no autocast here: fp32 throughout)."""
    labels = [0, 1, 1, 2, 3, 0]
    model = float_tiny(stage=stage)
    plain = copy.deepcopy(model)
    batch = float_batch(labels)
    wrapper = amp_wrapper(model)
    with torch.autocast('cpu', enabled=False):  # the scaler alone
        loss, _ = model.parse_losses(model(**batch))
        wrapper.update_params(loss)
    want = sgd_step(plain, float_batch(labels), lr=0.1)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, want[key], rtol=0, atol=0)
    assert wrapper.loss_scaler.get_scale() == 2.0 ** 16


@pytest.mark.parametrize('stage', [1, 2])
def test_bf16_autocast_keeps_the_ccsam_terms_in_float32(amp_wrapper, stage):
    """mmengine's AmpOptimWrapper.optim_context autocasts the forward to bfloat16 on the CPU; the CC-SAM terms are
    float32 and the step stays close to the float32 step."""
    labels = [0, 1, 1, 2, 3, 0]
    model, reference = float_tiny(stage=stage), float_tiny(stage=stage)
    wrapper = amp_wrapper(model, dtype='bfloat16')
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        losses = model(**float_batch(labels))
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    fp32 = reference(**float_batch(labels))
    for key in losses:
        torch.testing.assert_close(losses[key], fp32[key], rtol=5e-2, atol=5e-3)
    wrapper.update_params(model.parse_losses(losses)[0])
    want = sgd_step(reference, float_batch(labels), lr=0.1)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, want[key], rtol=5e-2, atol=5e-3)


@pytest.mark.parametrize('stage', [1, 2])
def test_non_finite_step_is_skipped(amp_wrapper, stage):
    """An overflowed feature makes the CC-SAM loss non-finite: the scaler finds inf / NaN gradients, skips the step
    (no parameter moves) and halves the scale."""
    model = float_tiny(stage=stage)
    before = copy.deepcopy(model.state_dict())
    batch = float_batch([0, 1, 1, 2, 3, 0])
    batch['inputs'][2] = float('inf')
    wrapper = amp_wrapper(model)
    with torch.autocast('cpu', enabled=False):
        loss, _ = model.parse_losses(model(**batch))
    assert not torch.isfinite(loss)
    wrapper.update_params(loss)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert wrapper.loss_scaler.get_scale() == 2.0 ** 15


# ------------------------------------------------------------ two ranks

RANK_LABELS = ([0, 1, 1, 3], [0, 2, 2, 1])  # equal batches: DDP's mean of rank means is the global mean


def rank_batch(rank: int) -> dict:
    return tiny_batch(RANK_LABELS[rank], seed=10 + rank)


def ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    from mmengine.model import MMDistributedDataParallel

    with gloo_process_group(rank, world_size, port):
        out = {}
        for stage in (1, 2):
            for sync in (True, False):
                model = MMDistributedDataParallel(Tiny(tiny_head_cfg(stage=stage, noise_ratio=0.5, sync=sync)))
                model.module.head.set_epoch(5)
                wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
                for _ in range(2):  # two steps: the second one from momentum and moved weights
                    model.train_step(rank_batch(rank), wrapper)
                out[(stage, sync)] = {k: v.detach().clone() for k, v in model.module.state_dict().items()}
        torch.save(out, Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_rank_step_equals_one_process_on_the_concatenated_batch(tmp_path):
    """mmengine's MMDistributedDataParallel.train_step over 2 gloo ranks: the ranks stay identical and equal the
    1-process train_step on the concatenated batch (the per-class gradients and norms are the global batch's, the
    one backward all-reduces once); sync=False (each rank its own batch's classes) does not."""
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    both = [rank_batch(0), rank_batch(1)]
    batch = dict(inputs=torch.cat([b['inputs'] for b in both]),
                 data_samples=both[0]['data_samples'] + both[1]['data_samples'])
    for stage in (1, 2):
        model = Tiny(tiny_head_cfg(stage=stage, noise_ratio=0.5))
        model.head.set_epoch(5)
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        for _ in range(2):
            model.train_step(copy.deepcopy(batch), wrapper)
        for key, value in model.state_dict().items():
            assert torch.equal(ranks[0][(stage, True)][key], ranks[1][(stage, True)][key]), (stage, key)
            torch.testing.assert_close(ranks[0][(stage, True)][key], value, rtol=1e-10, atol=1e-12)
        assert not torch.allclose(ranks[0][(stage, False)]['head.fc.weight'], model.state_dict()['head.fc.weight'],
                                  rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ checkpoints

def test_state_dict_is_the_linear_heads():
    """The head's state is LinearClsHead's (fc.weight, fc.bias): the counts and weights are rebuilt from class_stats,
    so a CC-SAM checkpoint loads into a plain linear head (and the stage-2 head) and back."""
    head = build(stage=1)
    state = head.state_dict()
    assert sorted(state) == ['fc.bias', 'fc.weight']
    plain = LinearClsHead(num_classes=4, in_channels=5).double()
    plain.load_state_dict(state)
    stage2 = build(stage=2)
    stage2.load_state_dict(state)
    x = feats()
    torch.testing.assert_close(plain(x), head(x))
    torch.testing.assert_close(stage2(x), head(x))
    fresh = build(stage=1)
    fresh.load_state_dict(plain.state_dict())
    torch.testing.assert_close(sum(fresh.loss((x,), samples(LABELS)).values()),
                               sum(head.loss((x,), samples(LABELS)).values()))
    torch.testing.assert_close(stage2.adv_weights, ccsam.adversarial_class_weights(COUNTS).double())


# ------------------------------------------------------------ configs

def scheduled_lrs(cfg: Config, epochs: int) -> List[float]:
    """The lr of each epoch as mmengine's ParamSchedulerHook steps the configured by-epoch schedulers."""
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import PARAM_SCHEDULERS

    wrapper = build_optim_wrapper(nn.Linear(1, 1), copy.deepcopy(cfg.optim_wrapper))
    scheds = cfg.param_scheduler or []
    scheds = scheds if isinstance(scheds, list) else [scheds]
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper.optimizer)) for s in copy.deepcopy(scheds)]
    out = []
    for _ in range(epochs):
        out.append(wrapper.optimizer.param_groups[0]['lr'])
        for s in schedulers:
            s.step()
    return out


def official_stage1_lr(epoch: int, lr: float = 0.1) -> float:
    """utils/lr_scheduler.py WarmupMultiStepLR (warm-up 5 epochs from x1/3, x0.1 at 160 and 180), stepped at each
    epoch start (train_cifar.py line 350): 0-indexed epoch e runs at last_epoch = e + 1."""
    last = epoch + 1
    warm = 1.0
    if last < 5:
        warm = 1 / 3 * (1 - last / 5) + last / 5
    return lr * warm * 0.1 ** sum(last >= m for m in (160, 180))


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
def test_cifar_recipes_are_the_official_ones():
    stage1 = Config.fromfile(str(CCSAM / 'stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e.py'))
    np.testing.assert_allclose(scheduled_lrs(stage1, 200), [official_stage1_lr(e) for e in range(200)], rtol=1e-6)
    assert stage1.train_cfg.max_epochs == 200
    assert (stage1.train_dataloader.batch_size, stage1.train_dataloader.drop_last) == (64, True)
    assert (stage1.optim_wrapper.optimizer.momentum, stage1.optim_wrapper.optimizer.weight_decay) == (0.9, 2e-4)
    assert stage1.model.train_cfg.augments == dict(type='Mixup', alpha=1.0) and stage1.model.head.loss.use_soft
    head1 = stage1.model.head
    assert (head1.type, head1.stage, head1.noise_ratio, head1.flat_ratio) == ('CCSAMClsHead', 1, 1e-6, 0.5)
    assert sum(stage1.class_stats['image_count']) == 10847 and min(stage1.class_stats['image_count']) == 5

    stage2 = Config.fromfile(str(CCSAM / 'ccsam_resnet32_1xb64_cifar100-lt-if100_30e.py'))
    assert scheduled_lrs(stage2, 30) == [0.01] * 30  # official lr_reset / adjust_learning_rate on CIFAR
    assert stage2.train_cfg.max_epochs == 30 and stage2.model.train_cfg is None
    assert stage2.train_dataloader.sampler == dict(type='ClassAwareSampler', num_samples_cls=1, num_samples='dataset')
    assert (stage2.train_dataloader.batch_size, stage2.train_dataloader.drop_last) == (64, False)
    head2 = stage2.model.head
    assert (head2.stage, head2.adv_strength, head2.weight_div, head2.max_adv_ratio, head2.adv_epochs) == \
        (2, 1.0, 2.0, 0.3, 30)
    assert not head2.loss.get('use_soft', False)
    assert stage2.load_from.endswith('stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e/epoch_200.pth')
    assert [h['type'] for h in stage2.custom_hooks] == ['DecoupledStageHook', 'LossEpochHook']
    assert stage2.custom_hooks[0]['bn_mode'] == 'train' and not stage2.custom_hooks[0]['reinit_head']


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('backbone', ['resnet50', 'resnext50-32x4d'])
def test_imagenet_stage2_is_the_official_non_cifar_branch(backbone):
    """adjust_learning_rate, not CIFAR: 0.1 lr_max (1 + cos(pi e / (E - S))), with lr_max the stage-1 lr (0.2) and
    E - S = 30."""
    stage1 = Config.fromfile(str(CCSAM / f'stage1-ccsam_{backbone}_8xb64_imagenet-lt_90e.py'))
    stage2 = Config.fromfile(str(CCSAM / f'ccsam_{backbone}_8xb64_imagenet-lt_30e.py'))
    lr_max = stage1.optim_wrapper.optimizer.lr
    want = [0.1 * lr_max * (1 + math.cos(e / 30 * math.pi)) for e in range(30)]
    np.testing.assert_allclose(scheduled_lrs(stage2, 30), want, rtol=1e-6, atol=1e-12)
    assert stage2.model.backbone == stage1.model.backbone
    assert stage2.load_from.endswith(f'stage1-ccsam_{backbone}_8xb64_imagenet-lt_90e/epoch_90.pth')


def two_iterations(cfg: Config) -> Config:
    cfg.merge_from_dict({'train_cfg.val_interval': cfg.train_cfg.max_epochs,
                         'default_hooks.checkpoint': dict(type='CheckpointHook', interval=1, save_best=None),
                         'default_hooks.logger.interval': 1})
    sampler = cfg.train_dataloader.sampler
    if sampler.type == 'ClassAwareSampler':
        sampler.num_samples = 2 * cfg.train_dataloader.batch_size
    else:
        cfg.train_dataloader.dataset.indices = 2 * cfg.train_dataloader.batch_size
    return cfg


def ccsam_digits(config: str, root: Path, work_dir: Path, **options) -> Config:
    data = str(root / 'data' / 'digits_lt') + '/'
    return two_iterations(digits_config(f'configs/ccsam/{config}', root, work_dir,
                                        **{'model.head.class_stats': data + 'meta/train.txt', **options}))


@pytest.mark.slow
def test_digits_two_stage_configs_train_and_resume(cls_workspace, tmp_path):
    """The Digits-LT configs as written: stage 1 (mixup, CC-SAM) trains two iterations and saves its checkpoint;
    stage 2 loads it (backbone and classifier), freezes the backbone and trains the classifier with the adversarial
    loss at the epoch's ramp; stage 2 run 2 epochs at once equals 1 epoch, then a resume for the second (the epoch of
    the ramp, the momentum and the class-aware draws all restored; without the random crop, whose generator a resume
    does not restore)."""
    stage1 = build_runner(ccsam_digits('stage1-ccsam_lenet_1xb32_digits-lt_30e.py', cls_workspace,
                                       tmp_path / 'stage1', **{'train_cfg.max_epochs': 1}))
    assert type(stage1.model.data_preprocessor.batch_augments.augments[0]).__name__ == 'Mixup'
    stage1.train()
    for key in ('loss', 'loss_ori', 'loss_flat'):
        value = stage1.message_hub.get_scalar(f'train/{key}').current()
        assert math.isfinite(value) and value > 0, key
    ckpt = tmp_path / 'stage1' / 'epoch_1.pth'
    state1 = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert sorted(k for k in state1 if k.startswith('head')) == ['head.fc.bias', 'head.fc.weight']

    def stage2(work_dir: Path, epochs: int, **options):
        cfg = ccsam_digits('ccsam_lenet_1xb32_digits-lt_10e.py', cls_workspace, work_dir,
                           **{'load_from': str(ckpt), 'train_cfg.max_epochs': epochs, **options})
        cfg.train_dataloader.dataset.pipeline = cfg.test_pipeline  # no random crop: the batches are the sampler's
        return build_runner(cfg)

    whole = stage2(tmp_path / 'whole', 2)
    assert whole.model.data_preprocessor.batch_augments is None
    whole.train()
    assert whole.model.head.stage == 2 and whole.model.head.epoch == 1
    assert whole.model.head.adv_ratio == pytest.approx(0.2)  # (1 + 1) / 10
    end = whole.model.state_dict()
    for key, value in state1.items():
        if key.startswith('backbone'):
            torch.testing.assert_close(end[key], value, rtol=0, atol=0)  # frozen
    assert not torch.equal(end['head.fc.weight'], state1['head.fc.weight'])
    value = whole.message_hub.get_scalar('train/loss_adv').current()
    assert math.isfinite(value) and value > 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= whole.message_hub.get_scalar(f'val/{key}').current() <= 100.0

    first = stage2(tmp_path / 'split', 1)
    first.train()
    assert first.model.head.epoch == 0
    resumed = stage2(tmp_path / 'split', 2, resume=True, load_from=None)  # the latest checkpoint of its work dir
    resumed.train()
    assert resumed.model.head.epoch == 1
    for key, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, end[key], rtol=1e-6, atol=1e-7)
