"""DistributedSampler against torch's for the same arguments (no process group needed)."""

import pytest
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from disttorch.utils.data.distributed import DistributedSampler


@pytest.mark.parametrize("length", [1, 5, 10, 11, 12, 2])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_indices_match_torch(length, replicas, drop_last):
    data = list(range(length))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("replicas", [2, 3])
def test_shuffled_shards_partition_one_permutation(replicas):
    data = list(range(10))
    shards = [list(DistributedSampler(data, replicas, r, seed=7)) for r in range(replicas)]
    total = len(shards[0]) * replicas
    assert all(len(s) == len(shards[0]) for s in shards)
    flat = [i for group in zip(*shards) for i in group]
    assert sorted(set(flat)) == data and len(flat) == total
    again = [list(DistributedSampler(data, replicas, r, seed=7)) for r in range(replicas)]
    assert again == shards


def test_set_epoch_reshuffles_and_seed_matters():
    data = list(range(50))
    sampler = DistributedSampler(data, 2, 0, seed=1)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert first != second
    sampler.set_epoch(0)
    assert list(sampler) == first
    assert list(DistributedSampler(data, 2, 0, seed=2)) != first


def test_errors_match_torch():
    for cls in (DistributedSampler, TorchSampler):
        with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval"):
            cls(list(range(4)), num_replicas=3, rank=3)


def test_in_dataloader_shards_batches():
    import disttorch

    data = disttorch.utils.data.TensorDataset(disttorch.arange(10))
    loaders = [disttorch.utils.data.DataLoader(
        data, batch_size=2, sampler=DistributedSampler(data, 2, r, shuffle=False))
        for r in range(2)]
    seen = sorted(int(v) for loader in loaders for (b,) in loader for v in b)
    assert seen == list(range(10))
