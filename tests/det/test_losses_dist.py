"""The multi-process parts of the detection losses, on 2 gloo processes: EQLv2's gradient statistics are
all-reduced (identical on every rank, equal to one process over the concatenated batches), and the Federated loss
draws a different class subset on each rank."""
from datetime import timedelta
from pathlib import Path
from typing import Tuple

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from ..helpers import free_port

NUM_CLASSES = 5
ITERATIONS = 3
FED_LABELS = torch.tensor([1, NUM_CLASSES, NUM_CLASSES])


def batch(rank: int, iteration: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The data of one rank at one iteration: a different number of RoIs per rank, at least one positive of class
    0 and one background RoI."""
    gen = torch.Generator().manual_seed(100 * rank + iteration)
    num_rois = 6 + 3 * rank
    labels = torch.randint(0, NUM_CLASSES + 1, (num_rois,), generator=gen)
    labels[0], labels[-1] = 0, NUM_CLASSES
    return torch.randn(num_rois, NUM_CLASSES + 1, generator=gen) * 2, labels


def eqlv2():
    from mmdet.registry import MODELS

    return MODELS.build(dict(type='EqualizationLossV2', num_classes=NUM_CLASSES))


def federated():
    from mmdet.registry import MODELS

    stats = dict(num_images=100, image_count=[40, 30, 20, 10, 5], instance_count=[40, 30, 20, 10, 5])
    return MODELS.build(dict(type='FederatedLoss', num_classes=NUM_CLASSES, class_stats=stats,
                             num_sampled_classes=4))


def worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool (as DataLoader workers do)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                  world_size=world_size, timeout=timedelta(seconds=120))
    try:
        from mmengine import dist

        import ltmm.det  # noqa: F401

        assert dist.get_world_size() == world_size and dist.get_rank() == rank
        loss_cls = eqlv2()
        for it in range(ITERATIONS):
            loss_cls(*batch(rank, it))
        fed = federated()
        subsets = [sorted(fed.sample_classes(FED_LABELS).tolist()) for _ in range(ITERATIONS)]
        torch.save(dict(state=loss_cls.state_dict(), subsets=subsets), Path(out_dir) / f'rank{rank}.pt')
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks(tmp_path):
    import ltmm.det  # noqa: F401  (imported once here: forked workers inherit it instead of importing it again)

    mp.start_processes(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method='fork')
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in range(2)]

    # EQLv2: the same statistics on both ranks ...
    states = [r['state'] for r in results]
    for key in ('pos_grad', 'neg_grad', 'pos_neg'):
        assert states[0][key].dtype == torch.float64
        assert torch.equal(states[0][key], states[1][key]), key
    # ... equal to one process that sees both ranks' RoIs at every iteration (the sums are additive; the weights
    # depend only on the shared statistics)
    single = eqlv2()
    for it in range(ITERATIONS):
        z0, l0 = batch(0, it)
        z1, l1 = batch(1, it)
        single(torch.cat([z0, z1]), torch.cat([l0, l1]))
    for key, value in single.state_dict().items():
        torch.testing.assert_close(states[0][key], value, rtol=1e-6, atol=1e-9, msg=key)  # float32 batch sums
    # ... and not what rank 0 would have accumulated alone
    alone = eqlv2()
    for it in range(ITERATIONS):
        alone(*batch(0, it))
    assert not torch.allclose(states[0]['pos_grad'], alone.pos_grad)

    # Federated loss: ranks draw different subsets (the GT classes are in both)
    subsets = [r['subsets'] for r in results]
    assert subsets[0] != subsets[1]
    for per_rank in subsets:
        for subset in per_rank:
            assert len(subset) == 4 and {1, NUM_CLASSES} <= set(subset)
