"""GOL (``GumbelLoss``): the module against a naive transcription of the official ``DropLoss(use_classif='gumbel')``
(kostas1515/GOL mmdet/models/losses/droploss.py, value and gradient, with the uniforms the module drew), hand-computed
Gumbel terms and clamp, the drop statistics (r per batch and per rank, on two gloo processes), the seeded draws
through a checkpoint, all-background and empty batches, fp16 / bf16 inputs under a loss scale, and the test-time
scores through the bbox head's ``get_activation``."""
import math
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmdet.registry import MODELS

import ltmm.det  # noqa: F401  (registers the modules, patches checkpoint loading)
from ltmm.det.losses import gumbel_loss as gumbel_module

from ..helpers import free_port, gloo_process_group
from .loss_checks import check_bf16_autocast, check_loss_scaled_low_precision, close, loss_and_grad, ref_loss_and_grad
from .test_losses import build_head, head_inputs, head_loss_inputs, predict_scores

# 6 classes: f = image_count / 1000 = 0.5, 0.003, 0.1, 0.0, 0.009, 0.02; lambda_ 0.01 -> tail = classes 1, 3, 4
COUNTS = [500, 3, 100, 0, 9, 20]
TAIL = [False, True, False, True, True, False]
LAMBDA = 0.01


def stats(image_count: Sequence[int] = COUNTS, num_images: int = 1000) -> dict:
    return dict(num_images=num_images, image_count=list(image_count), instance_count=list(image_count))


def gol(**kwargs) -> torch.nn.Module:
    cfg = dict(type='GumbelLoss', num_classes=len(COUNTS), class_stats=stats(), lambda_=LAMBDA)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def official_gol(z: torch.Tensor, labels: Sequence[int], freq: Sequence[float], lambda_: float,
                 uniform: torch.Tensor, clamp: Tuple[float, float] = (-4.0, 10.0)) -> torch.Tensor:
    """``DropLoss.forward`` with ``use_classif='gumbel'`` (droploss.py l.93-156) in float64, line by line;
    ``uniform`` (N, C) stands for ``torch.rand_like(bg)``."""
    z = z.double()
    n_i, n_c = z.shape
    labels_t = torch.tensor(list(labels))
    target = z.new_zeros(n_i, n_c + 1)
    target[torch.arange(n_i), labels_t] = 1
    target = target[:, :n_c]
    freq_info = torch.tensor(list(freq), dtype=torch.float64)
    # threshold_func
    weight = z.new_zeros(n_c)
    weight[freq_info < lambda_] = 1
    weight = weight.view(1, n_c).expand(n_i, n_c)
    fg_rows = labels_t != n_c
    exclude_ratio = torch.mean((freq_info[labels_t[fg_rows]] < lambda_).double())  # NaN without foreground
    fg = fg_rows.double().view(n_i, 1).expand(n_i, n_c)
    bg = 1 - fg
    random = uniform.double() * bg
    random = torch.where(random > exclude_ratio, torch.ones_like(random), torch.zeros_like(random))
    drop_w = 1 - (random + fg) * weight * (1 - target)
    # the Gumbel branch
    pestim = 1 / torch.exp(torch.exp(-torch.clamp(z, min=clamp[0], max=clamp[1])))
    cls_loss = F.binary_cross_entropy(pestim, target, reduction='none')
    return torch.sum(cls_loss * drop_w) / n_i


class CapturedUniforms:
    """Records the uniforms ``GumbelLoss`` draws (``torch.rand``, N x #tail) and expands them to the official N x C
    grid (the non-tail columns, where the official weight is 0, get 0.5)."""

    def __init__(self, monkeypatch):
        self.draws: List[torch.Tensor] = []
        rand = torch.rand

        def capture(*args, **kwargs):
            out = rand(*args, **kwargs)
            self.draws.append(out.clone())
            return out

        monkeypatch.setattr(gumbel_module.torch, 'rand', capture)

    def grid(self, index: int, tail: Sequence[bool] = TAIL) -> torch.Tensor:
        draw = self.draws[index]
        full = torch.full((draw.size(0), len(tail)), 0.5, dtype=torch.float64)
        full[:, torch.tensor(tail)] = draw.double()
        return full


FREQ = [c / 1000 for c in COUNTS]
BG = len(COUNTS)
# labels -> the fraction r of tail classes among the foreground RoIs
CASES = {
    'mixed': ([0, 1, 6, 6, 2, 4, 6, 6, 3, 6, 5, 0], 3 / 7),
    'all_fg_tail': ([1, 3, 6, 6, 4, 6], 1.0),       # r = 1: background RoIs keep every tail negative
    'no_fg_tail': ([0, 2, 6, 5, 6, 6], 0.0),        # r = 0: background RoIs drop every tail negative
    'background_only': ([6, 6, 6, 6], math.nan),    # r = NaN (official): nothing dropped
}


@pytest.mark.parametrize('scale', [0.5, 3.0, 8.0])
@pytest.mark.parametrize('case', sorted(CASES))
def test_value_and_gradient_vs_official(case, scale, monkeypatch):
    labels_list, ratio = CASES[case]
    labels = torch.tensor(labels_list)
    gen = torch.Generator().manual_seed(int(scale * 10) + len(case))
    z = torch.randn(len(labels_list), len(COUNTS), generator=gen) * scale - 1
    uniforms = CapturedUniforms(monkeypatch)
    loss, grad = loss_and_grad(gol(), z, labels)
    assert len(uniforms.draws) == 1 and uniforms.draws[0].shape == (len(labels_list), sum(TAIL))
    ref_loss, ref_grad = ref_loss_and_grad(official_gol, z, labels_list, FREQ, LAMBDA, uniforms.grid(0))
    close(loss, ref_loss, rtol=1e-5)
    close(grad, ref_grad, rtol=1e-5, atol=1e-7)
    # the drop pattern of the background RoIs' tail negatives follows r (the clamp zeroes the rest)
    inside = (z > -4) & (z < 10)
    bg_tail = (labels == BG).unsqueeze(1) & torch.tensor(TAIL) & inside
    if case == 'all_fg_tail' or case == 'background_only':
        assert (grad[bg_tail] != 0).all(), 'r = 1 or no foreground: every background tail negative is kept'
    elif case == 'no_fg_tail':
        assert (grad[bg_tail] == 0).all(), 'r = 0: every background tail negative is dropped'
    # foreground RoIs never push down a tail class other than their own
    fg_tail = (labels < BG).unsqueeze(1) & torch.tensor(TAIL)
    own = F.one_hot(labels.clamp(max=BG - 1), BG).bool() & (labels < BG).unsqueeze(1)
    assert (grad[fg_tail & ~own] == 0).all()
    assert math.isnan(ratio) or ratio == pytest.approx(gumbel_module.gol_tail_ratio(labels, torch.tensor(TAIL)).item())


def test_gumbel_terms_and_clamp_by_hand():
    # G(0) = 1/e: positive loss -ln G(0) = 1, negative loss -ln(1 - 1/e)
    one = MODELS.build(dict(type='GumbelLoss', num_classes=1, class_stats=stats([5], 10), lambda_=0.0))
    loss, grad = loss_and_grad(one, torch.zeros(2, 1), torch.tensor([0, 1]))
    assert loss.item() == pytest.approx((1 - math.log(1 - math.exp(-1))) / 2, rel=1e-6)
    # d/dz exp(-z) = -1; d/dz -ln(1 - exp(-e^-z)) = e^-z exp(-e^-z) / (1 - exp(-e^-z)) at 0: e^-1 / (1 - e^-1)
    close(grad, torch.tensor([[-0.5], [math.exp(-1) / (1 - math.exp(-1)) / 2]]))
    # the clamp [-4, 10]: a positive at -10 costs e^4 with no gradient, a negative at 20 costs -ln(1 - G(10))
    loss, grad = loss_and_grad(one, torch.tensor([[-10.0], [20.0]]), torch.tensor([0, 1]))
    want = (math.exp(4) - math.log(-math.expm1(-math.exp(-10)))) / 2
    assert loss.item() == pytest.approx(want, rel=1e-5)
    assert (grad == 0).all()
    # the AGLU variant's clamp [-10, 10]: the positive at -10 now costs e^10
    wide = MODELS.build(dict(type='GumbelLoss', num_classes=1, class_stats=stats([5], 10), lambda_=0.0,
                             logit_clamp=(-10, 10)))
    assert wide(torch.tensor([[-10.0]]), torch.tensor([0])).item() == pytest.approx(math.exp(10), rel=1e-5)


def test_negative_term_keeps_its_small_gradients():
    """d/dz -ln(1 - G(z)) = x / (e^x - 1), x = e^-z: about 4e-8 at z = -3 and 2e-22 at z = -3.9, where autograd
    through expm1 (computed from its rounded result) would give 0; the official float32 BCE keeps them."""
    z = torch.tensor([-3.9, -3.5, -3.0, -2.0, 0.0, 0.5, 5.0, 9.9], requires_grad=True)
    value = gumbel_module.gumbel_neg_loss(z)
    value.sum().backward()
    x = torch.exp(-z.detach().double())
    close(z.grad, x / torch.expm1(x), rtol=1e-5, atol=0)
    close(value, -torch.log1p(-torch.exp(-x)), rtol=1e-5, atol=1e-7)  # 1 - G(z) rounds to 1 as in float32 BCE
    assert (z.grad > 0).all()


def test_drop_probability_is_one_minus_r():
    """A background RoI keeps a tail negative with probability r: the kept fraction over many draws."""
    module = gol()
    labels = torch.tensor([1, 0, 2, 6] + [6] * 60)  # r = 1/3
    z = torch.zeros(labels.numel(), len(COUNTS), requires_grad=True)
    kept = []
    for _ in range(50):
        z.grad = None
        module(z, labels).backward()
        kept.append((z.grad[labels == BG][:, torch.tensor(TAIL)] != 0).double())
    kept = torch.cat(kept)
    sigma = math.sqrt(1 / 3 * 2 / 3 / kept.numel())
    assert abs(kept.mean().item() - 1 / 3) < 5 * sigma
    # independent draws: the kept entries of one column are not those of another
    assert not torch.equal(kept[:, 0], kept[:, 1])


def drawn_masks(module, labels: torch.Tensor, calls: int) -> List[torch.Tensor]:
    """The background tail negatives each call keeps (from the gradient pattern)."""
    masks = []
    for _ in range(calls):
        z = torch.zeros(labels.numel(), len(COUNTS), requires_grad=True)
        module(z, labels).backward()
        masks.append(z.grad[:, torch.tensor(TAIL)] != 0)
    return masks


LABELS = torch.tensor([1, 0, 6, 6, 6, 6, 6, 6, 6, 6])  # r = 1/2


def same(a: List[torch.Tensor], b: List[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def test_draws_are_seeded_per_rank_and_call(monkeypatch):
    first = drawn_masks(gol(), LABELS, 4)
    assert same(first, drawn_masks(gol(), LABELS, 4)), 'same seed, same draws'
    assert not all(torch.equal(first[0], m) for m in first[1:]), 'each call draws anew'
    assert not same(first, drawn_masks(gol(seed=1), LABELS, 4)), 'another seed, other draws'
    with monkeypatch.context() as patch:
        patch.setattr(gumbel_module.dist, 'get_rank', lambda *args, **kwargs: 1)
        assert not same(first, drawn_masks(gol(), LABELS, 4)), 'another rank, other draws'
    module = gol()
    drawn_masks(module, LABELS, 2)
    assert int(module.num_calls) == 2
    # a call without any foreground RoI still advances the sequence
    module(torch.zeros(3, len(COUNTS)), torch.tensor([6, 6, 6]))
    assert int(module.num_calls) == 3


def head_cfg() -> dict:
    return dict(type='GumbelLoss', num_classes=3, class_stats=stats([50, 3, 2], 100), lambda_=0.05)


def train_head(head, iterations: int) -> None:
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    for it in range(iterations):
        feats, _ = head_inputs(20 + it)
        cls_score, bbox_pred = head(feats)
        head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels))


def test_draw_sequence_survives_a_checkpoint(tmp_path):
    """The call index is in the state dict (``loss_cls.num_calls``): a run resumed from a checkpoint continues the
    same draws as the uninterrupted run."""
    from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint

    trained = build_head(head_cfg())
    train_head(trained, 3)
    state = trained.state_dict()
    assert int(state['loss_cls.num_calls']) == 3
    assert not any(k.startswith('loss_cls.') and k != 'loss_cls.num_calls' for k in state), \
        'the tail mask is derived from class_stats, not checkpointed'
    path = str(tmp_path / 'gol.pth')
    save_checkpoint(dict(meta=dict(iter=3), state_dict=state), path)
    resumed = build_head(head_cfg())
    load_checkpoint(resumed, path, map_location='cpu', strict=True)
    assert int(resumed.loss_cls.num_calls) == 3
    labels = torch.tensor([1, 0, 3, 3, 3, 3, 3, 3])  # tail classes 1, 2; r = 1/2
    z = torch.zeros(8, 3)
    continued, after_resume = drawn_gol(trained.loss_cls, z, labels, 3), drawn_gol(resumed.loss_cls, z, labels, 3)
    assert all(torch.equal(a, b) for a, b in zip(continued, after_resume))
    assert not all(torch.equal(continued[0], g) for g in continued[1:]), 'the draws change from call to call'
    fresh = drawn_gol(build_head(head_cfg()).loss_cls, z, labels, 3)
    assert not all(torch.equal(a, b) for a, b in zip(continued, fresh)), 'a fresh loss would restart the sequence'


def drawn_gol(module, z: torch.Tensor, labels: torch.Tensor, calls: int) -> List[torch.Tensor]:
    out = []
    for _ in range(calls):
        x = z.clone().requires_grad_()
        module(x, labels).backward()
        out.append(x.grad.clone())
    return out


# ------------------------------------------------------------------------------- two ranks (DDP, gloo)

def rank_batch(rank: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Rank 0: every foreground RoI tail (r = 1); rank 1: none (r = 0). A shared r would be 1/2 on both."""
    gen = torch.Generator().manual_seed(rank)
    labels = torch.tensor([1, 3, 6, 6, 6, 6, 6, 6]) if rank == 0 else torch.tensor([0, 2, 6, 6, 6, 6, 6, 6])
    return torch.randn(labels.numel(), len(COUNTS), generator=gen), labels


def ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    with gloo_process_group(rank, world_size, port):
        module = gol()
        z, labels = rank_batch(rank)
        loss, grad = loss_and_grad(module, z, labels)
        # the same mixed batch on both ranks (r = 1/2): the draws of the two ranks differ
        mixed = torch.tensor([1, 0, 6, 6, 6, 6, 6, 6, 6, 6])
        _, mixed_grad = loss_and_grad(module, torch.zeros(10, len(COUNTS)), mixed)
        torch.save(dict(loss=loss, grad=grad, mixed=mixed_grad, state=module.state_dict()),
                   Path(out_dir) / f'rank{rank}.pt')


@pytest.mark.slow
def test_two_ranks_keep_their_own_ratio_and_draws(tmp_path):
    mp.start_processes(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]
    tail = torch.tensor(TAIL)
    for rank, res in enumerate(results):
        z, labels = rank_batch(rank)
        bg_tail = (labels == BG).unsqueeze(1) & tail & (z > -4)
        if rank == 0:
            assert (res['grad'][bg_tail] != 0).all(), 'rank 0 (r = 1) keeps every background tail negative'
            uniform = torch.zeros(labels.numel(), len(COUNTS), dtype=torch.float64)  # not used at r = 1
        else:
            assert (res['grad'][bg_tail] == 0).all(), 'rank 1 (r = 0) drops every background tail negative'
            uniform = torch.full((labels.numel(), len(COUNTS)), 0.5, dtype=torch.float64)  # any U > 0 drops
        ref_loss, ref_grad = ref_loss_and_grad(official_gol, z, labels.tolist(), FREQ, LAMBDA, uniform)
        close(res['loss'], ref_loss, rtol=1e-5)
        close(res['grad'], ref_grad, rtol=1e-5)
        assert int(res['state']['num_calls']) == 2
    assert not torch.equal(results[0]['mixed'], results[1]['mixed']), 'each rank draws its own uniforms'


# ------------------------------------------------------------------------------------------ edge cases

def test_background_only_batch_drops_nothing(monkeypatch):
    labels = torch.full((5,), BG)
    z = torch.randn(5, len(COUNTS), generator=torch.Generator().manual_seed(3)) * 2
    uniforms = CapturedUniforms(monkeypatch)
    loss, grad = loss_and_grad(gol(), z, labels)
    # every entry is a negative, all kept: sum of -ln(1 - G(clamp z)) / N
    zc = z.double().clamp(-4, 10)
    close(loss, (-torch.log(1 - torch.exp(-torch.exp(-zc)))).sum() / 5, rtol=1e-5)
    ref = ref_loss_and_grad(official_gol, z, labels.tolist(), FREQ, LAMBDA, uniforms.grid(0))
    close(loss, ref[0], rtol=1e-5)
    close(grad, ref[1], rtol=1e-5)
    assert torch.isfinite(grad).all() and (grad != 0).all()


def test_empty_batch():
    module = gol()
    loss, grad = loss_and_grad(module, torch.zeros(0, len(COUNTS)), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0 and grad.shape == (0, len(COUNTS))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_inputs_under_a_loss_scale(dtype):
    """Under AMP the loss is multiplied by the loss scale before backward: the loss is computed in float32 and the
    gradient is cast last, so it equals the float32 path's within the input precision (the same draws: fresh modules
    with the same seed)."""
    gen = torch.Generator().manual_seed(5)
    num_rois, scale = 256, 2.0 ** 12
    labels = torch.randint(0, BG + 1, (num_rois,), generator=gen)
    labels[:3] = torch.tensor([0, 1, BG])
    z_low = (torch.randn(num_rois, len(COUNTS), generator=gen) * 3 - 2).to(dtype)
    z_low[0, 0] = 300.0 if dtype == torch.bfloat16 else 60000.0  # far beyond the clamp
    check_loss_scaled_low_precision(gol, z_low, labels, scale)


def test_bf16_autocast():
    check_bf16_autocast(gol, len(COUNTS), torch.tensor([0, 1, 2, 6, 6, 4]))


def test_errors_name_the_value():
    with pytest.raises(ValueError, match='6 classes but num_classes=5'):
        gol(num_classes=5)
    with pytest.raises(ValueError, match='logit_clamp'):
        gol(logit_clamp=(10, -4))
    with pytest.raises(ValueError, match='logit_clamp'):
        gol(logit_clamp=(-math.inf, 10))
    with pytest.raises(ValueError, match='-80 <= low'):
        gol(logit_clamp=(-100, 10))
    module = gol()
    with pytest.raises(ValueError, match='expected 6 class logits .* got 7'):
        module(torch.zeros(2, 7), torch.tensor([0, 6]))
    with pytest.raises(ValueError, match='none'):
        module(torch.zeros(2, 6), torch.tensor([0, 6]), reduction_override='none')
    assert module.get_cls_channels(6) == 6
    with pytest.raises(ValueError, match='num_classes=7'):
        module.get_cls_channels(7)


def test_tail_is_eql_selection():
    """The tail is EQL's: f = image_count / num_images < lambda_ (a class without image included)."""
    eql = MODELS.build(dict(type='EqualizationLoss', num_classes=6, class_stats=stats(), lambda_=LAMBDA))
    assert torch.equal(gol().tail_mask, eql.tail_mask)
    assert gol().tail_mask.tolist() == TAIL


# ------------------------------------------------------------------------- the bbox head (test time)

def test_head_width_init_and_gumbel_scores():
    from mmengine.config import ConfigDict

    head = build_head(head_cfg(), init_cfg=dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls')))
    assert head.fc_cls.out_features == 3
    head.init_weights()
    assert (head.fc_cls.weight == 0.001).all() and (head.fc_cls.bias == -2).all()
    head.eval()
    feats, rois = head_inputs(4)
    with torch.no_grad():
        cls_score, result = predict_scores(head, feats, rois)
        want = torch.cat([torch.exp(-torch.exp(-cls_score.double())), torch.zeros(6, 1, dtype=torch.float64)], 1)
        close(result.scores, want, rtol=1e-6)
        assert not torch.allclose(result.scores[:, :3].double(), torch.sigmoid(cls_score.double()), atol=1e-3)
        # at init every class scores about G(-2) = exp(-e^2)
        assert result.scores[:, :3].double().mean().item() == pytest.approx(math.exp(-math.exp(2)), rel=0.2)
        # through multiclass_nms with GOL's NMS IoU 0.3: the zero column is dropped, the top score is a class score
        _, dets = predict_scores(head, feats, rois, ConfigDict(score_thr=0.0, max_per_img=100,
                                                               nms=dict(type='nms', iou_threshold=0.3)))
    assert dets.labels.max() < 3
    assert dets.scores.max().item() == pytest.approx(want[:, :3].max().item(), rel=1e-6)
    # get_activation does not clamp: scores beyond the training clamp keep their order
    scores = head.loss_cls.get_activation(torch.tensor([[12.0, 11.0, -5.0], [-2.5, -2.0, 0.0]]))
    assert scores[0, 0] > scores[0, 1] and scores[1, 1] > scores[1, 0] > 0 and (scores[:, 3] == 0).all()


def test_head_loss_and_accuracy():
    head = build_head(head_cfg())
    feats, _ = head_inputs(2)
    labels = torch.tensor([0, 1, 3, 3, 2, 0])
    cls_score, bbox_pred = head(feats)
    losses = head.loss(cls_score, bbox_pred, **head_loss_inputs(6, labels))
    assert {'loss_cls', 'acc_classes', 'acc_objectness', 'loss_bbox'} <= set(losses)
    losses['loss_cls'].backward()
    assert torch.isfinite(head.fc_cls.weight.grad).all()
    # acc_classes: top-1 over the C logits on foreground RoIs (official); acc_objectness: no class with G > 0.5
    half = gumbel_module.GUMBEL_HALF_LOGIT
    assert math.exp(-math.exp(-half)) == pytest.approx(0.5)
    z = torch.tensor([[2.0, -1.0, -3.0],     # fg 0: predicted fg (G(2) > 0.5), class 0 right
                      [0.2, 0.3, -1.0],      # fg 1: predicted bg (G(0.3) < 0.5 although z > 0), class 1 right
                      [0.1, 0.2, 0.3],       # bg: predicted bg
                      [1.0, 3.0, -1.0]])     # fg 0: predicted fg, class wrong
    acc = head.loss_cls.get_accuracy(z, torch.tensor([0, 1, 3, 0]))
    assert acc['acc_objectness'].item() == pytest.approx(75.0)
    assert acc['acc_classes'].item() == pytest.approx(200 / 3)
