"""Data-parallel training of a CNN on the bundled digits: the main job of disttorch.

    disttorchrun -n 2 examples/train_ddp.py                 # 2 ranks on this machine
    mpirun -n 4 python examples/train_ddp.py --epochs 10    # or any MPI launcher / srun
    disttorchrun -n 2 examples/train_ddp.py --resume        # continue from the checkpoint

Each rank trains on its shard (DistributedSampler), gradients are averaged by
DistributedDataParallel, rank 0 shows a tqdm bar and writes a checkpoint after every epoch.
Test accuracy is counted exactly over all ranks: every test sample is evaluated once.

On SIGUSR1 or SIGTERM (Slurm sends one before the time limit) every rank finishes its
current step, rank 0 saves a checkpoint and the job exits with status 3 (REQUEUE_EXIT_CODE);
a batch script then requeues it and the new run resumes from that step.
"""

import argparse
import os
import signal
import sys

import numpy as np
from tqdm import tqdm

import disttorch as torch
import disttorch.distributed as dist
import disttorch.nn.functional as F
from disttorch import nn
from disttorch.nn.parallel import DistributedDataParallel as DDP
from disttorch.utils.data import DataLoader, Subset
from disttorch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _digits import digits_arrays, make_dataset_class  # noqa: E402

REQUEUE_EXIT_CODE = 3


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout(torch.flatten(x, 1))
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


class StopFlag:
    """Set by SIGUSR1/SIGTERM; all-reduced every step so that every rank stops together."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGUSR1, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        self.requested = True

    def finished(self):
        """Training is complete: a late requeue signal must not kill the exiting process
        (Python restores the default action, termination, for its handlers at exit)."""
        for sig in (signal.SIGUSR1, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)

    def agreed(self):
        flag = torch.tensor([int(self.requested)])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())


def checkpoint_path(directory):
    return os.path.join(directory, "checkpoint.pt")


def save_checkpoint(path, ddp, optimizer, scheduler, epoch, step, history):
    """Rank 0 writes; every rank's RNG state goes in so a resumed run draws the same numbers."""
    rng_states = [None] * dist.get_world_size()
    dist.all_gather_object(rng_states, torch.get_rng_state())
    if dist.get_rank() == 0:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        torch.save({"model": ddp.module.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": epoch, "step": step,
                    "history": history, "rng_states": rng_states,
                    "world_size": dist.get_world_size()}, path)
    dist.barrier()


def evaluate(model, dataset, batch_size):
    """Exact accuracy over the whole test set: rank r evaluates samples r, r+N, r+2N, ..."""
    rank, world = dist.get_rank(), dist.get_world_size()
    shard = Subset(dataset, list(range(rank, len(dataset), world)))
    model.eval()
    counts = torch.zeros(2, dtype=torch.int64)
    with torch.no_grad():
        for images, labels in DataLoader(shard, batch_size=batch_size):
            counts[0] += (model(images).argmax(1) == labels).sum()
            counts[1] += len(labels)
    dist.all_reduce(counts)
    model.train()
    return counts[0].item() / counts[1].item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-dir", default="checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--sync-bn", action="store_true", help="use SyncBatchNorm")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop (and checkpoint) after this many steps in this run")
    args = parser.parse_args(argv)

    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed + rank)  # dropout differs per rank, reproducibly

    Digits = make_dataset_class(torch)
    train_x, train_y, test_x, test_y = digits_arrays()
    train_set, test_set = Digits(train_x, train_y), Digits(test_x, test_y)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    # its own generator: creating an iterator then never draws from the global RNG, which a
    # resumed run restores from the checkpoint (dropout draws from it)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler,
                        generator=torch.Generator())

    torch.manual_seed(args.seed)  # the same initial model everywhere (DDP broadcasts anyway)
    model = CNN()
    if args.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DDP(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    torch.manual_seed(args.seed + rank)

    start_epoch, start_step, history = 0, 0, []
    path = checkpoint_path(args.checkpoint_dir)
    if args.resume and os.path.exists(path):
        state = torch.load(path, weights_only=True)
        if state["world_size"] != world:
            raise SystemExit(f"checkpoint was written by {state['world_size']} ranks, this job "
                             f"has {world}; resume with the same number of ranks")
        ddp.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, start_step, history = state["epoch"], state["step"], state["history"]
        torch.set_rng_state(state["rng_states"][rank])
        if rank == 0:
            print(f"resumed from {path} at epoch {start_epoch + 1}, step {start_step}",
                  flush=True)

    stop = StopFlag()
    steps_this_run = 0
    accuracy = None
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)
        batches = iter(loader)
        skip = start_step if epoch == start_epoch else 0
        for _ in range(skip):  # same permutation as before the interruption
            next(batches)
        bar = tqdm(batches, total=len(loader), initial=skip, desc=f"epoch {epoch + 1}",
                   disable=args.no_progress or rank != 0, leave=False)
        for step, (images, labels) in enumerate(bar, start=skip):
            optimizer.zero_grad()
            loss = F.cross_entropy(ddp(images), labels)
            loss.backward()
            optimizer.step()
            reduced = loss.detach().clone()
            dist.all_reduce(reduced, op=dist.ReduceOp.AVG)
            history.append(round(reduced.item(), 6))
            bar.set_postfix(loss=f"{history[-1]:.4f}")
            steps_this_run += 1
            limit = args.max_steps is not None and steps_this_run >= args.max_steps
            if stop.agreed() or limit:
                save_checkpoint(path, ddp, optimizer, scheduler, epoch, step + 1, history)
                if rank == 0:
                    print(f"stopped at epoch {epoch + 1} step {step + 1}; checkpoint saved to "
                          f"{path}", flush=True)
                dist.destroy_process_group()
                return REQUEUE_EXIT_CODE
        scheduler.step()
        accuracy = evaluate(ddp, test_set, batch_size=256)
        epoch_losses = history[-len(loader):]
        save_checkpoint(path, ddp, optimizer, scheduler, epoch + 1, 0, history)
        if rank == 0:
            print(f"epoch {epoch + 1:3d}  train loss {np.mean(epoch_losses):.4f}  "
                  f"test accuracy {100 * accuracy:.2f}%  ({world} ranks)", flush=True)
    if rank == 0 and accuracy is not None:
        print(f"final test accuracy {100 * accuracy:.2f}%", flush=True)
    stop.finished()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
