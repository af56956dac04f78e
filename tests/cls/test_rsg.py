"""RSG (``ltmm/cls/classifiers/rsg.py``): the module against a naive transcription of the official per-step algorithm
(Jianf-Wang/RSG ``Imbalanced_Classification/models/RSG.py``), values and gradients; the pairing, the head classes,
the edge cases, the state through a checkpoint, the test-time network, DDP, and the Digits-LT smoke."""
import copy
from typing import List

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

from ltmm.cls.classifiers import RSG, rsg_head_classes, rsg_segments
from ltmm.cls.classifiers.rsg import cesc_distances

from ..helpers import REPO, free_port, gloo_process_group

DIGITS_CONFIG = str(REPO / 'configs/rsg/rsg_lenet_1xb32_digits-lt_30e.py')


def stats(counts: List[int]) -> dict:
    return dict(num_images=sum(counts), image_count=counts, instance_count=counts)


# 6 classes; int(6 * 0.2) = 1 head class by default (class 1, the most frequent)
COUNTS = [30, 50, 20, 10, 5, 3]


def make_rsg(seed: int = 0, **kwargs) -> RSG:
    torch.manual_seed(seed)
    args = dict(num_classes=len(COUNTS), in_channels=4, class_stats=stats(COUNTS), num_centers=3,
                contrastive_channels=8, epoch_thresh=4)
    args.update(kwargs)
    rsg = RSG(**args)
    with torch.no_grad():  # centres away from 0 and a non-trivial assignment, so every term is exercised
        rsg.centers.normal_()
        rsg.assign_weight.mul_(0.3)
    return rsg


# ------------------------------------------------------------------------------------------------------------------
# A naive transcription of the official RSG.forward / compute_cesc_loss / compute_mv_loss (CPU, float32), on the
# parameters of an ltmm RSG: AvgPool2d(H) pooling, centres expanded over H x W, bmm with gamma, one-hot bmm (float64)
# for the arg-max centres, the segment loops, requires_grad switched off on the contrastive module at the first
# generation step. Returns (maps, targets, L_cesc, L_mv / segment), unweighted as the official forward returns them.
# ------------------------------------------------------------------------------------------------------------------
def official_contrastive(m: RSG, pairs: torch.Tensor, height: int) -> torch.Tensor:
    x = m.contrastive[2](F.relu(m.contrastive[0](pairs)))
    x = nn.AvgPool2d(height)(x).contiguous().view(-1, m.contrastive_fc.in_features)
    return m.contrastive_fc(x)


def official_cesc(m, feature_maps, c, gamma, target, epoch):
    num = feature_maps.size(0)
    gamma = gamma.unsqueeze(1)
    dist = torch.pow(feature_maps.unsqueeze(1).expand(-1, c.size(1), -1, -1, -1) - c, 2).view(num, m.num_centers, -1)
    loss = torch.sum(torch.bmm(gamma, dist)) / num
    if epoch <= m.epoch_thresh:
        f1, f2 = feature_maps[:num // 2], feature_maps[num // 2:num]
        pred = official_contrastive(m, torch.cat([f1, f2], dim=1), feature_maps.size(2))
        loss = loss + F.cross_entropy(pred, torch.eq(target[:num // 2], target[num // 2:num]).long())
    return loss


def one_hot(k: int, index: torch.Tensor) -> torch.Tensor:
    b = np.zeros((index.shape[0], k))
    b[np.arange(index.shape[0]), index.numpy()] = 1
    return torch.from_numpy(b)


def official_mv(m, origin_feature, origin_center, target_center, target_features, gamma_head, gamma_tail):
    c, c_ = origin_center.detach(), target_center.detach()
    num, C, H, W = target_features.size()
    ori_f = origin_feature.detach()
    for p in list(m.contrastive.parameters()) + list(m.contrastive_fc.parameters()):
        p.requires_grad = False
    index = one_hot(m.num_centers, gamma_head.detach().argmax(dim=1)).unsqueeze(1)
    index_ = one_hot(m.num_centers, gamma_tail.detach().argmax(dim=1)).unsqueeze(1)
    c_o = torch.bmm(index, c.view(-1, m.num_centers, H * W * C).double()).view(ori_f.size())
    c_t = torch.bmm(index_, c_.view(-1, m.num_centers, H * W * C).double()).view(ori_f.size())
    var_map = ori_f - c_o.float()
    var_map_t = m.transfer(var_map)
    target_vector = target_features - c_t.float()
    generated = target_features + var_map_t
    t_norm = F.normalize(target_vector.view(-1, C), dim=1)
    v_norm = F.normalize(var_map_t.view(-1, C), dim=1)
    pred = official_contrastive(m, torch.cat([ori_f, var_map_t], dim=1), H)
    loss = F.cross_entropy(pred, torch.zeros(num).long()) + (
        torch.sum(torch.abs(torch.norm(var_map_t.view(-1, C), dim=1) - torch.norm(var_map.view(-1, C), dim=1)))
        + torch.sum(torch.abs(t_norm * v_norm - torch.ones(t_norm.size())))) / num
    return loss, generated


def official_gamma_centers(m, maps, target):
    C, H, W = maps.shape[1:]
    p = nn.AvgPool2d(H)(maps).view(-1, C)
    sel = target.unsqueeze(1)
    linear = m.assign_weight[sel, :, :].view(-1, C, m.num_centers)
    bias = m.assign_bias[sel, :].view(-1, m.num_centers)
    gamma = torch.softmax(torch.bmm(p.unsqueeze(1), linear).view(-1, m.num_centers) + bias, dim=1)
    centers = m.centers[sel, :, :].view(-1, m.num_centers, C).unsqueeze(3).unsqueeze(4).repeat(1, 1, 1, H, W)
    return gamma, centers


def official_forward(m: RSG, feature_maps, target, epoch):
    head_list = m.head_classes
    maps_detach = feature_maps.detach()
    total = target.size(0)
    heads = torch.Tensor(head_list).unsqueeze(0).repeat(total, 1)
    index_head = torch.sum((target.unsqueeze(1).repeat(1, len(head_list)) == heads).long(), dim=1)
    index_head_, index_tail_ = torch.eq(index_head, 1), torch.eq(1 - index_head, 1)
    gamma, centers = official_gamma_centers(m, maps_detach, target)
    loss_cesc = official_cesc(m, maps_detach, centers, gamma, target, epoch)
    loss_mv_total = torch.zeros(loss_cesc.size())
    maps_tail, maps_head = maps_detach[index_tail_], maps_detach[index_head_]
    target_tail, target_head = target[index_tail_], target[index_head_]
    segment = 1
    num_tail, num_head = maps_tail.size(0), maps_head.size(0)
    if num_tail != 0 and num_head != 0 and epoch > m.epoch_thresh:
        if num_head >= num_tail:
            segment = max(1, int(num_head * m.transfer_strength / num_tail))
            for j in range(segment):
                origin, heads = maps_head[j * num_tail:(j + 1) * num_tail], target_head[j * num_tail:(j + 1) * num_tail]
                gamma_head, center_origin = official_gamma_centers(m, origin, heads)
                gamma_tail, target_center = official_gamma_centers(m, maps_tail, target_tail)
                loss_mv, generated = official_mv(m, origin, center_origin, target_center, maps_tail, gamma_head,
                                                 gamma_tail)
                loss_mv_total = loss_mv_total + loss_mv
                feature_maps = torch.cat((feature_maps, generated), dim=0)
                target = torch.cat((target, target_tail), dim=0)
        else:
            segment = max(1, int(num_tail * m.transfer_strength / num_head))
            for j in range(segment):
                latent = maps_tail[j * num_head:(j + 1) * num_head]
                tails = target_tail[j * num_head:(j + 1) * num_head]
                gamma_head, center_origin = official_gamma_centers(m, maps_head, target_head)
                gamma_tail, target_center = official_gamma_centers(m, latent, tails)
                loss_mv, generated = official_mv(m, maps_head, center_origin, target_center, latent, gamma_head,
                                                 gamma_tail)
                feature_maps = torch.cat((feature_maps, generated), dim=0)
                loss_mv_total = loss_mv_total + loss_mv
                target = torch.cat((target, tails), dim=0)
    return feature_maps, target, loss_cesc, loss_mv_total / segment


def run_step(m: RSG, feats: torch.Tensor, target: torch.Tensor, readout: torch.Tensor, official: bool):
    """One step and its gradients (every parameter of ``m`` and the input map) of ``readout . maps + 0.1 L_cesc +
    0.01 L_mv``, the maps standing for the later stages."""
    m.zero_grad(set_to_none=True)
    for p in m.parameters():
        p.requires_grad_(True)
    feats = feats.clone().requires_grad_(True)
    if official:
        maps, targets, cesc, mv = official_forward(m, feats, target, int(m.epoch))
        cesc, mv = 0.1 * cesc, 0.01 * mv
    else:
        maps, targets, losses = m(feats, target)
        cesc, mv = losses['loss_cesc'], losses['loss_mv']
    ((maps * readout[:len(maps)]).sum() + cesc + mv).backward()
    grads = {n: None if p.grad is None else p.grad.clone() for n, p in m.named_parameters()}
    return maps.detach(), targets, cesc.detach(), mv.detach(), grads, feats.grad


# head = class 1: batches with more heads than tails, fewer heads (tails not a multiple of heads), a weaker strength
BATCHES = {
    'more_heads': [1, 1, 1, 1, 1, 0, 3, 1, 1],
    'more_tails': [0, 1, 2, 3, 4, 5, 1, 2, 0, 4, 3],
    'equal': [1, 2, 1, 5],
}


@pytest.mark.parametrize('epoch', [2, 4, 5], ids=['pairs', 'last_pair_epoch', 'generation'])
@pytest.mark.parametrize('batch', sorted(BATCHES))
@pytest.mark.parametrize('strength', [1.0, 0.5])
def test_step_matches_the_official_algorithm(epoch, batch, strength):
    m = make_rsg(transfer_strength=strength)
    m.set_epoch(epoch)
    target = torch.tensor(BATCHES[batch])
    n = len(target) if epoch > 4 else 2 * (len(target) // 2)  # the official pair term needs an even batch
    target = target[:n]
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(n, 4, 5, 5, generator=g)
    readout = torch.randn(4 * n, 4, 5, 5, generator=g)
    ours = run_step(m, feats, target, readout, official=False)
    theirs = run_step(m, feats, target, readout, official=True)
    assert torch.equal(ours[1], theirs[1])
    for a, b in zip(ours[:4:2] + ours[3:4], theirs[:4:2] + theirs[3:4]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    for name in ours[4]:
        if theirs[4][name] is None:
            assert ours[4][name] is None or not ours[4][name].any(), name
        else:
            torch.testing.assert_close(ours[4][name], theirs[4][name], rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(ours[5], theirs[5])
    if epoch > 4:  # generation: the contrastive module is frozen, T trains
        assert ours[4]['transfer.weight'] is not None and ours[4]['transfer.weight'].any()
        assert all(ours[4][f'contrastive.{i}.weight'] is None for i in (0, 2))
        assert len(ours[0]) > n
    else:  # the pair term trains the contrastive module, T is unused
        assert ours[4]['contrastive.0.weight'].any() and ours[4]['transfer.weight'] is None
        assert len(ours[0]) == n


def test_auxiliary_losses_never_reach_the_input_map():
    for epoch in (0, 9):
        m = make_rsg()
        m.set_epoch(epoch)
        feats = torch.randn(6, 4, 5, 5, requires_grad=True)
        maps, _, losses = m(feats, torch.tensor([1, 0, 1, 2, 1, 3]))
        (losses['loss_cesc'] + losses['loss_mv']).backward(retain_graph=True)
        assert feats.grad is None
        if epoch:  # the generated maps carry gradients into T and the later stages only
            maps[6:].sum().backward()
            assert (feats.grad is None or not feats.grad.any()) and m.transfer.weight.grad.any()


def test_cesc_distances_equal_the_expanded_form():
    x, c = torch.randn(3, 4, 5, 6), torch.randn(3, 2, 4)
    naive = (x[:, None] - c[:, :, :, None, None]).pow(2).sum(dim=(2, 3, 4))
    torch.testing.assert_close(cesc_distances(x, c), naive)


def test_hand_computed_cesc_with_one_centre():
    """K = 1, zero centres, no tail sample after the threshold: gamma = 1, L_cesc = mean_i ||F_i||^2."""
    m = make_rsg(num_centers=1)
    with torch.no_grad():
        m.centers.zero_()
    m.set_epoch(5)
    feats = torch.arange(2 * 4 * 2 * 2, dtype=torch.float32).reshape(2, 4, 2, 2) / 10
    _, _, losses = m(feats, torch.tensor([1, 1]))
    torch.testing.assert_close(losses['loss_cesc'], 0.1 * feats.pow(2).sum() / 2)
    assert float(losses['loss_mv']) == 0.0


def test_segments_by_hand():
    assert rsg_segments(5, 2) == [(slice(0, 2), slice(0, 2)), (slice(2, 4), slice(0, 2))]
    assert rsg_segments(2, 5) == [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(2, 4))]
    assert rsg_segments(3, 3) == [(slice(0, 3), slice(0, 3))]
    assert rsg_segments(4, 2, strength=0.5) == [(slice(0, 2), slice(0, 2))]
    assert rsg_segments(3, 2, strength=0.5) == [(slice(0, 2), slice(0, 2))]  # int(0.75) = 0 -> one segment
    assert rsg_segments(3, 0) == [] and rsg_segments(0, 4) == []


def test_generated_maps_by_hand():
    """One head and one tail: F~ = F_t + T(F_h - c_{y_h, argmax gamma_h}); with T the identity and zero bias."""
    m = make_rsg()
    with torch.no_grad():
        m.transfer.weight.zero_()
        m.transfer.weight[range(4), range(4), 1, 1] = 1.0
        m.transfer.bias.zero_()
    m.set_epoch(5)
    feats, target = torch.randn(2, 4, 3, 3), torch.tensor([1, 4])
    maps, targets, losses = m(feats, target)
    k = m.assignment(feats.mean(dim=(2, 3)), target).argmax(dim=1)
    expected = feats[1] + feats[0] - m.centers[1, k[0]].detach()[:, None, None]
    torch.testing.assert_close(maps[2], expected)
    assert targets.tolist() == [1, 4, 4] and float(losses['rsg_generated']) == 1.0


def test_head_classes_from_counts():
    counts = [5, 40, 40, 3, 100, 1, 7, 8, 9, 10]
    assert rsg_head_classes(counts, 0.2) == [4, 1]  # the most frequent first, ties to the lower index
    assert rsg_head_classes(counts, 0.3) == [4, 1, 2]
    cifar = [int(500 * 0.01 ** (i / 99)) for i in range(100)]
    assert rsg_head_classes(cifar, 0.2) == list(range(20))  # the official CIFAR indices [0, 20)
    m = RSG(10, 4, stats(counts), contrastive_channels=8)
    assert m.head_classes == [4, 1] and m.is_head.nonzero()[:, 0].tolist() == [1, 4]
    shuffled = RSG(10, 4, stats(counts[::-1]), contrastive_channels=8)  # follows the counts, not the indices
    assert shuffled.head_classes == [5, 7]


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_classes=4, class_stats=stats([4, 3, 2, 1])), 'gives 0 head classes'),
    (dict(num_classes=5), 'describe|classes'),
    (dict(class_stats=stats([30, 50, 0, 10, 5, 3])), 'class 2|2'),
    (dict(transfer_strength=1.5), 'transfer_strength'),
    (dict(epoch_thresh=-2), 'epoch_thresh'),
    (dict(init_mode='xavier'), 'init_mode'),
    (dict(in_channels=0), 'in_channels'),
])
def test_bad_arguments_name_the_value(kwargs, match):
    args = dict(num_classes=6, in_channels=4, class_stats=stats(COUNTS))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        RSG(**args)


def test_bad_inputs_and_missing_epoch():
    m = make_rsg()
    with pytest.raises(RuntimeError, match='LossEpochHook'):
        m(torch.randn(2, 4, 3, 3), torch.tensor([0, 1]))
    m.set_epoch(0)
    with pytest.raises(ValueError, match='in_channels=4'):
        m(torch.randn(2, 3, 3, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'\[0, 6\)'):
        m(torch.randn(2, 4, 3, 3), torch.tensor([0, 6]))


@pytest.mark.parametrize('target', [[1, 1, 1, 1], [0, 2, 3, 4]], ids=['no_tail', 'no_head'])
def test_batch_without_head_or_tail_generates_nothing(target):
    m = make_rsg()
    m.set_epoch(9)
    feats = torch.randn(4, 4, 3, 3, requires_grad=True)
    maps, targets, losses = m(feats, torch.tensor(target))
    assert maps.shape == feats.shape and torch.equal(maps, feats) and targets.tolist() == target
    assert float(losses['loss_mv']) == 0.0 and float(losses['rsg_generated']) == 0.0
    (maps.sum() + losses['loss_cesc']).backward()
    assert m.transfer.weight.grad is None


def test_odd_and_single_batches_before_the_threshold():
    m = make_rsg()
    m.set_epoch(0)
    for n in (1, 5):
        _, _, losses = m(torch.randn(n, 4, 3, 3), torch.arange(n) % 6)
        assert torch.isfinite(losses['loss_cesc'])


def test_state_through_a_checkpoint(tmp_path):
    m = make_rsg()
    m.set_epoch(7)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    _, _, losses = m(torch.randn(6, 4, 3, 3), torch.tensor([1, 0, 1, 2, 1, 3]))
    (losses['loss_cesc'] + losses['loss_mv']).backward()
    opt.step()
    torch.save(m.state_dict(), tmp_path / 'rsg.pth')
    fresh = make_rsg(seed=5)
    fresh.load_state_dict(torch.load(tmp_path / 'rsg.pth'))
    for name in ('centers', 'assign_weight', 'assign_bias', 'transfer.weight', 'transfer.bias', 'contrastive.0.weight',
                 'contrastive_fc.weight'):
        assert torch.equal(fresh.state_dict()[name], m.state_dict()[name]), name
    assert int(fresh.epoch) == 7 and fresh.generating
    feats, target = torch.randn(6, 4, 3, 3), torch.tensor([1, 0, 1, 2, 1, 3])
    a, b = m(feats, target), fresh(feats, target)
    assert torch.equal(a[0], b[0]) and all(torch.equal(a[2][k], b[2][k]) for k in a[2])


# ------------------------------------------------------------------------------------------------------------------
# The classifier: enlarged batch into the head's loss, the plain network at test time, checkpoints
# ------------------------------------------------------------------------------------------------------------------
def lenet_cfg(classifier: str = 'RSGClassifier') -> dict:
    counts = [120, 79, 52, 35, 23, 15, 10, 6, 4, 3]
    cfg = dict(type=classifier, backbone=dict(type='LeNet5', num_classes=-1), neck=dict(type='GlobalAveragePooling'),
               head=dict(type='CosineClsHead', num_classes=10, in_channels=120, scale=1.0,
                         loss=dict(type='LDAMLoss', class_stats=stats(counts), max_m=0.5, s=30.0)),
               data_preprocessor=dict(num_classes=10, mean=[127.5], std=[127.5], to_rgb=False))
    if classifier == 'RSGClassifier':
        cfg.update(rsg_after='features.2', rsg=dict(type='RSG', in_channels=6, class_stats=stats(counts),
                                                    epoch_thresh=0))
    return cfg


def build(cfg: dict):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    init_default_scope('mmpretrain')
    return MODELS.build(copy.deepcopy(cfg))


def samples(labels):
    from mmpretrain.structures import DataSample

    return [DataSample().set_gt_label(y) for y in labels]


def test_the_head_loss_sees_the_enlarged_batch(monkeypatch):
    torch.manual_seed(0)
    model = build(lenet_cfg())
    model.rsg.set_epoch(1)
    seen = {}
    head_loss = model.head.loss

    def spy(feats, data_samples):
        seen['n'], seen['labels'] = feats[-1].size(0), [int(s.gt_label) for s in data_samples]
        return head_loss(feats, data_samples)

    monkeypatch.setattr(model.head, 'loss', spy)
    labels = [0, 5, 1, 7, 9, 0]  # heads 0 and 1: 3 heads, 3 tails -> one segment of 3 generated tails
    losses = model.loss(torch.randn(6, 1, 32, 32), samples(labels))
    assert seen['n'] == 9 and seen['labels'] == labels + [5, 7, 9]
    assert set(losses) >= {'loss', 'loss_cesc', 'loss_mv', 'rsg_generated'} and float(losses['rsg_generated']) == 3
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.backbone.features[0].weight.grad.any() and model.rsg.transfer.weight.grad.any()


def test_classifier_refuses_bad_insertion_points_and_soft_labels():
    cfg = lenet_cfg()
    cfg['rsg_after'] = 'layer3'
    with pytest.raises(ValueError, match="rsg_after='layer3'"):
        build(cfg)
    model = build(lenet_cfg())
    model.rsg.set_epoch(0)
    soft = samples([0, 1])
    for s in soft:
        s.set_gt_score(torch.full((10, ), 0.1))
    with pytest.raises(ValueError, match='hard labels'):
        model.loss(torch.randn(2, 1, 32, 32), soft)


def test_test_time_model_is_the_plain_network(tmp_path):
    from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = build(lenet_cfg())
    model.rsg.set_epoch(3)
    model.loss(torch.randn(4, 1, 32, 32), samples([0, 1, 5, 9]))
    save_checkpoint(dict(state_dict=model.state_dict()), str(tmp_path / 'rsg.pth'))  # as the Runner writes it
    plain = build(lenet_cfg('ImageClassifier'))
    result = plain.load_state_dict(torch.load(tmp_path / 'rsg.pth', weights_only=False)['state_dict'], strict=False)
    assert not result.missing_keys and result.unexpected_keys and all(k.startswith('rsg.')
                                                                         for k in result.unexpected_keys)
    model.eval(), plain.eval()
    inputs = torch.randn(5, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(inputs, mode='tensor'), plain(inputs, mode='tensor'), rtol=0, atol=0)
        ours, theirs = model.predict(inputs), plain.predict(inputs)
    assert all(torch.equal(a.pred_score, b.pred_score) for a, b in zip(ours, theirs))
    resumed = build(lenet_cfg())  # a resumed run gets the RSG back: centres, W, b, T and the epoch
    load_checkpoint(resumed, str(tmp_path / 'rsg.pth'), strict=True)
    assert all(torch.equal(a, b) for a, b in zip(resumed.rsg.state_dict().values(), model.rsg.state_dict().values()))


# ------------------------------------------------------------------------------------------------------------------
# DDP: per-rank pairing, parameters unused on either side of the threshold (find_unused_parameters=True)
# ------------------------------------------------------------------------------------------------------------------
def _ddp_worker(rank: int, world_size: int, port: int, queue) -> None:
    from torch.nn.parallel import DistributedDataParallel

    with gloo_process_group(rank, world_size, port):
        m = make_rsg()
        ddp = DistributedDataParallel(m, find_unused_parameters=True)
        g = torch.Generator().manual_seed(rank)
        target = torch.tensor([[1, 0, 1, 2], [3, 4, 5, 1]][rank])
        grads = []
        for epoch in (0, 5):  # the pair term (T unused), then generation (contrastive module unused)
            m.set_epoch(epoch)
            m.zero_grad(set_to_none=True)
            maps, _, losses = ddp(torch.randn(4, 4, 3, 3, generator=g), target)
            (maps.sum() + losses['loss_cesc'] + losses['loss_mv']).backward()
            # numpy, not tensors: torch would share tensors through file descriptors that die with this process
            grads.append({n: None if p.grad is None else p.grad.numpy().copy() for n, p in m.named_parameters()})
        queue.put((rank, grads))


def test_ddp_pairs_per_rank_and_averages_gradients():
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_ddp_worker, args=(r, 2, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = {rank: [{n: None if g is None else torch.from_numpy(g) for n, g in step.items()} for step in grads]
               for rank, grads in (queue.get(timeout=300) for _ in procs)}
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    # the same step on each rank's batch alone, averaged: what each DataParallel replica did, then the mean
    local = []
    for rank in range(2):
        m = make_rsg()
        g = torch.Generator().manual_seed(rank)
        target = torch.tensor([[1, 0, 1, 2], [3, 4, 5, 1]][rank])
        per_epoch = []
        for epoch in (0, 5):
            m.set_epoch(epoch)
            m.zero_grad(set_to_none=True)
            maps, _, losses = m(torch.randn(4, 4, 3, 3, generator=g), target)
            (maps.sum() + losses['loss_cesc'] + losses['loss_mv']).backward()
            per_epoch.append({n: None if p.grad is None else p.grad.clone() for n, p in m.named_parameters()})
        local.append(per_epoch)
    for step in range(2):
        for name, grad in results[0][step].items():
            expected = [local[r][step][name] for r in range(2)]
            if all(e is None for e in expected):
                assert grad is None or not grad.any(), (step, name)
                continue
            mean = sum(torch.zeros_like(grad) if e is None else e for e in expected) / 2
            torch.testing.assert_close(grad, mean, rtol=1e-4, atol=1e-6, msg=f'{step} {name}')
            torch.testing.assert_close(results[1][step][name], grad)


# ------------------------------------------------------------------------------------------------------------------
# Digits-LT: two iterations on CPU, generating from the first step
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_digits_lt_config_trains_and_generates(cls_workspace, tmp_path, monkeypatch):
    from .digits_lt_smoke import train_two_iterations

    monkeypatch.chdir(cls_workspace)
    # epoch_thresh -1: generation from epoch 0; the 64 training images are taken from the val list (10 per class,
    # sorted by class), because the first 64 of the train list are all of the head digit 0 (no tail to generate)
    loss, metrics, runner = train_two_iterations(DIGITS_CONFIG, tmp_path, cfg_options={
        'model.rsg.epoch_thresh': -1, 'train_dataloader.dataset.ann_file': 'meta/val.txt'})
    hub = runner.message_hub
    assert np.isfinite(loss) and loss > 0
    assert hub.get_scalar('train/rsg_generated').current() > 0 and hub.get_scalar('train/loss_mv').current() > 0
    for key in ('shot/all', 'shot/many', 'shot/medium', 'shot/few'):
        assert 0.0 <= metrics[key] <= 100.0, key
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
