"""DataLoader with worker processes: same batches as in-process loading, seeds, worker info,
persistent workers, timeouts, errors and shutdown.

Workers start with forkserver, so everything they run (datasets, collate and init functions)
is defined at module level here, and this module does not import torch (each worker imports
it to unpickle the dataset). Datasets are tiny: the cost is in starting workers.
"""

import gc
import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import disttorch
import disttorch.utils.data as ddata


class Squares(ddata.Dataset):
    def __init__(self, n=10):
        self.n = n

    def __getitem__(self, i):
        return {"i": i, "x": disttorch.tensor([float(i), float(i * i)])}

    def __len__(self):
        return self.n


class WhoAmI(ddata.Dataset):
    """Each sample says which worker made it, with which seed and random draws."""

    def __getitem__(self, i):
        info = ddata.get_worker_info()
        return {"index": i, "worker": info.id, "num_workers": info.num_workers,
                "seed": info.seed, "same_dataset": info.dataset is self,
                "init": INIT_MARK.get("worker", -1), "pid": os.getpid(),
                "numpy": float(np.random.random()), "disttorch": disttorch.rand(1).item()}

    def __len__(self):
        return 6


INIT_MARK = {}


def mark_worker(worker_id):
    INIT_MARK["worker"] = worker_id


class Shards(ddata.IterableDataset):
    """range(n), split between the workers through get_worker_info."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = ddata.get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class Failing(ddata.Dataset):
    def __init__(self, error):
        self.error = error

    def __getitem__(self, i):
        if i == 3:
            raise self.error
        if i == 4 and isinstance(self.error, SystemExit):
            os._exit(3)  # dies without a word
        return i

    def __len__(self):
        return 8


class Slow(ddata.Dataset):
    def __getitem__(self, i):
        if i == 2:
            time.sleep(1)
        return i

    def __len__(self):
        return 4


class Unpicklable(ddata.Dataset):
    def __getitem__(self, i):
        return lambda: i  # a batch that cannot be sent back

    def __len__(self):
        return 2


def failing_init(worker_id):
    raise RuntimeError(f"init failed in {worker_id}")


def as_lists(batches):
    return [{k: v.tolist() if isinstance(v, disttorch.Tensor) else v for k, v in b.items()}
            if isinstance(b, dict) else b.tolist() for b in batches]


@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False)])
def test_workers_give_the_same_batches_in_order(batch_size, drop_last):
    def load(workers):
        loader = ddata.DataLoader(Squares(), batch_size=batch_size, drop_last=drop_last,
                                  num_workers=workers)
        return as_lists(loader)

    assert load(2) == load(0)


def test_shuffled_batches_do_not_depend_on_num_workers():
    def load(workers):
        loader = ddata.DataLoader(Squares(11), batch_size=4, shuffle=True, num_workers=workers,
                                  generator=disttorch.Generator().manual_seed(3))
        return as_lists(loader)

    assert load(2) == load(0)


def test_worker_info_seeds_and_init_fn():
    generator = disttorch.Generator().manual_seed(0)
    loader = ddata.DataLoader(WhoAmI(), batch_size=None, num_workers=2,
                              worker_init_fn=mark_worker, generator=generator)
    samples = list(loader)
    assert [s["index"] for s in samples] == list(range(6))
    assert [s["worker"] for s in samples] == [0, 1] * 3  # round-robin, in order
    assert all(s["num_workers"] == 2 and s["same_dataset"] for s in samples)
    assert all(s["init"] == s["worker"] for s in samples)
    seeds = {s["worker"]: s["seed"] for s in samples}
    assert seeds[1] == seeds[0] + 1
    # each worker has its own random streams
    by_worker = {w: [s["numpy"] for s in samples if s["worker"] == w] for w in (0, 1)}
    assert by_worker[0] != by_worker[1]
    assert ddata.get_worker_info() is None
    # the same generator seed gives the same worker seeds and draws
    again = list(ddata.DataLoader(WhoAmI(), batch_size=None, num_workers=2,
                                  generator=disttorch.Generator().manual_seed(0)))
    assert [(s["seed"], s["numpy"], s["disttorch"]) for s in again] == \
        [(s["seed"], s["numpy"], s["disttorch"]) for s in samples]


def test_iterable_dataset_sharding():
    sharded = ddata.DataLoader(Shards(9), batch_size=2, num_workers=2)
    batches = [b.tolist() for b in sharded]
    # worker 0 streams 0,2,4,6,8 and worker 1 streams 1,3,5,7; batches alternate
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8]]
    unbatched = [int(x) for x in ddata.DataLoader(Shards(5), batch_size=None, num_workers=2)]
    assert unbatched == [0, 1, 2, 3, 4]
    copies = [int(x) for x in ddata.DataLoader(Shards(3, shard=False), batch_size=None,
                                               num_workers=2)]
    assert sorted(copies) == [0, 0, 1, 1, 2, 2]  # without sharding every worker streams all


def test_persistent_workers_survive_epochs():
    loader = ddata.DataLoader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    first = list(loader)
    pids = {p for b in first for p in b["pid"].tolist()}
    iterator = loader._iterator
    # abandon an epoch midway: the next one still starts from the beginning
    partial = iter(loader)
    next(partial)
    second = list(loader)
    assert loader._iterator is iterator
    assert [b["index"].tolist() for b in second] == [[0, 1], [2, 3], [4, 5]]
    assert {p for b in second for p in b["pid"].tolist()} == pids
    workers = list(iterator._workers)
    del loader, iterator, partial
    gc.collect()
    for process in workers:
        process.join(timeout=5)
        assert process.exitcode == 0


def test_workers_stop_when_the_iterator_is_collected():
    iterator = iter(ddata.DataLoader(Squares(40), batch_size=2, num_workers=2))
    next(iterator)
    workers = list(iterator._workers)
    assert type(workers[0]).__name__ == "ForkServerProcess"
    assert all(p.is_alive() for p in workers)
    del iterator
    gc.collect()
    for process in workers:
        process.join(timeout=5)
        assert process.exitcode == 0  # a clean exit, not a kill


def test_prefetch_factor_bounds_tasks_in_flight():
    iterator = iter(ddata.DataLoader(Squares(40), batch_size=1, num_workers=2,
                                     prefetch_factor=3))
    assert iterator._send_idx == 6  # prefetch_factor tasks per worker before any result
    next(iterator)
    assert iterator._send_idx == 7  # one more for each batch returned
    iterator._shutdown_workers()


def test_unordered_results_cover_everything():
    loader = ddata.DataLoader(Squares(9), batch_size=2, num_workers=2, in_order=False)
    assert sorted(i for b in loader for i in b["i"].tolist()) == list(range(9))


def test_spawn_context():
    loader = ddata.DataLoader(Squares(5), batch_size=2, num_workers=1,
                              multiprocessing_context="spawn")
    assert as_lists(loader) == as_lists(ddata.DataLoader(Squares(5), batch_size=2))


def test_timeout():
    loader = ddata.DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.2 seconds$"):
        list(loader)


@pytest.mark.parametrize("error,kind", [(ValueError("bad index 3"), ValueError),
                                        (KeyError("missing"), KeyError)])
def test_worker_exception_is_reraised_with_traceback(error, kind):
    loader = ddata.DataLoader(Failing(error), batch_size=2, num_workers=2)
    iterator = iter(loader)
    assert next(iterator).tolist() == [0, 1]
    with pytest.raises(kind) as caught:
        next(iterator)
    message = str(caught.value)
    assert f"Caught {kind.__name__} in DataLoader worker process 1." in message
    assert "Original Traceback (most recent call last):" in message
    assert "in __getitem__" in message and str(error.args[0]) in message


def test_worker_init_fn_failure_is_reraised():
    loader = ddata.DataLoader(Squares(), batch_size=2, num_workers=1,
                              worker_init_fn=failing_init)
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process "
                                           "0(.|\n)*init failed in 0"):
        list(loader)


def test_dead_worker_is_reported():
    loader = ddata.DataLoader(Failing(SystemExit()), batch_size=1, num_workers=1)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(loader)


def test_unpicklable_batch_is_reported():
    loader = ddata.DataLoader(Unpicklable(), batch_size=None, num_workers=1, timeout=20)
    with pytest.raises(Exception, match="in DataLoader worker process 0"):
        list(loader)


def test_unpicklable_loader_arguments():
    loader = ddata.DataLoader(Squares(), num_workers=1, collate_fn=lambda batch: batch)
    with pytest.warns(UserWarning, match="pickle error"), pytest.raises(Exception):
        iter(loader)


def test_no_workers_left_at_interpreter_exit(tmp_path):
    script = tmp_path / "leave_early.py"
    script.write_text(textwrap.dedent("""
        import disttorch.utils.data as ddata

        class Data(ddata.Dataset):
            def __getitem__(self, i):
                return i

            def __len__(self):
                return 100

        if __name__ == "__main__":
            persistent = ddata.DataLoader(Data(), num_workers=2, persistent_workers=True)
            next(iter(persistent))
            plain = iter(ddata.DataLoader(Data(), num_workers=2))
            next(plain)
            print(*[p.pid for p in persistent._iterator._workers + plain._workers])
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for pid in map(int, done.stdout.split()):
        assert not running(pid)


def test_workers_inside_an_mpi_job(tmp_path):
    """Workers of an MPI rank start, run and stop cleanly, even when the main script
    initialises MPI as it is imported (and so again in every worker that imports it)."""
    pytest.importorskip("mpi4py")
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    mpirun = shutil.which("mpirun", path=search)
    if mpirun is None:
        pytest.skip("no mpirun")
    script = tmp_path / "rank.py"
    script.write_text(textwrap.dedent("""
        from mpi4py import MPI  # initialises MPI on import
        import disttorch
        import disttorch.utils.data as ddata

        if __name__ == "__main__":
            data = ddata.TensorDataset(disttorch.arange(5))
            loader = ddata.DataLoader(data, batch_size=2, num_workers=2)
            print(MPI.COMM_WORLD.Get_rank(), [b[0].tolist() for b in loader])
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run([mpirun, "-n", "2", "--oversubscribe", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(done.stdout.splitlines()) == ["0 [[0, 1], [2, 3], [4]]",
                                                "1 [[0, 1], [2, 3], [4]]"]


def running(pid):
    """Whether a process exists and is not a zombie (an exited child not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
