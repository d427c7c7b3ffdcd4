"""A job whose rank 1 raises while rank 0 waits in a collective: the whole job must end,
failed, with rank 1's traceback in its output."""

import disttorch as torch
import disttorch.distributed as dist


def failing_step():
    raise ValueError("boom from rank 1")


dist.init_process_group()
print(f"rank {dist.get_rank()} of {dist.get_world_size()} training", flush=True)
if dist.get_rank() == 1:
    failing_step()
dist.all_reduce(torch.ones(2))  # rank 0 waits here for a rank that died
