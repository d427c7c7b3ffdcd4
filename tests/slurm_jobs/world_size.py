"""Prints what each rank of a job sees: rank, world size, LOCAL_RANK and its threads."""

import os

import disttorch.distributed as dist

dist.init_process_group()
print(f"rank {dist.get_rank()} of {dist.get_world_size()} LOCAL_RANK={os.environ['LOCAL_RANK']} "
      f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}", flush=True)
dist.destroy_process_group()
