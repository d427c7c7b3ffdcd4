"""Core benchmarks: per-op autograd overhead and a matmul chain, torch vs disttorch.

    python benchmarks/bench_core.py                 # both frameworks, prints the ratio
    python benchmarks/bench_core.py --framework disttorch

Per-op: a chain of 200 small elementwise ops on 16-element tensors, forward + backward,
time divided by 200. Matmul: a chain of 1024x1024 float32 matmuls (forward only), GFLOP/s.
Both run on one thread (torch.set_num_threads(1), OMP/BLAS threads 1).

Times are CPU time of the (single-threaded) process, so other load on a shared machine
changes them little; each framework runs in its own process.
"""

import argparse
import json
import os
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def load(name):
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        return torch
    import disttorch

    return disttorch


def per_op_chain(torch, repeats):
    x = torch.randn(16, requires_grad=True)
    c = torch.randn(16)

    def step():
        y = x
        for i in range(50):  # 4 ops per iteration: 200 ops
            y = y * c
            y = y + 1.0
            y = y.tanh() if hasattr(y, "tanh") else y.exp()
            y = y - c
        y.sum().backward()
        x.grad = None

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        step()
        best = min(best, time.process_time() - start)
    return best / 200 * 1e6  # microseconds per op, forward + backward


def matmul_chain(torch, repeats, n=1024, length=8):
    mats = [torch.randn(n, n) for _ in range(length)]

    def run():
        y = mats[0]
        for m in mats[1:]:
            y = y @ m
            y = y * (1.0 / 32)
        return y

    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    flops = 2 * n ** 3 * (length - 1)
    return flops / best / 1e9  # GFLOP/s


def measure(name, repeats):
    torch = load(name)
    return {"per_op_us": per_op_chain(torch, repeats), "matmul_gflops": matmul_chain(torch, 5)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["torch", "disttorch", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    if args.framework != "both":
        print(json.dumps(measure(args.framework, args.repeats)))
        return
    results = {}
    for name in ("torch", "disttorch"):  # separate processes: no shared thread pools
        out = subprocess.run([sys.executable, __file__, "--framework", name, "--repeats",
                              str(args.repeats)], capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    t, d = results["torch"], results["disttorch"]
    print(f"per-op fwd+bwd   torch {t['per_op_us']:7.2f} us   disttorch {d['per_op_us']:7.2f} us"
          f"   ratio {d['per_op_us'] / t['per_op_us']:.2f}x")
    print(f"matmul 1024 f32  torch {t['matmul_gflops']:7.1f} GF/s disttorch "
          f"{d['matmul_gflops']:7.1f} GF/s ratio {t['matmul_gflops'] / d['matmul_gflops']:.2f}x"
          " (time)")


if __name__ == "__main__":
    main()
