"""Train-step benchmarks: the same model and step on torch and on disttorch, 1 thread each.

    python benchmarks/bench_train.py                  # all models, both frameworks, ratios
    python benchmarks/bench_train.py --model cnn --framework disttorch

Models (issue 3): MLP 784-1024-1024-10 batch 128 with SGD momentum; LeNet-style CNN
(conv32-conv64-maxpool-fc128-fc10, PyTorch's MNIST example) batch 64 with Adadelta-like SGD;
LSTM input 64, hidden 256, seq 35, batch 32. The time is the median of timed steps
(forward, loss, backward, optimizer step) after warm-up.

Times are CPU time of the (single-threaded) process, so other load on a shared machine
changes them little; each framework runs in its own process.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def load(name):
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        return torch
    import disttorch

    return disttorch


def mlp(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 10))
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    return model, (x,), y, nn.CrossEntropyLoss()


def cnn(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = torch.relu(self.conv1(x))
            x = torch.relu(self.conv2(x))
            x = nn.functional.max_pool2d(x, 2)
            x = torch.flatten(x, 1)
            x = torch.relu(self.fc1(x))
            return self.fc2(x)

    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    return Net(), (x,), y, nn.CrossEntropyLoss()


def lstm(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(64, 256)
            self.head = nn.Linear(256, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[-1])

    x, y = torch.randn(35, 32, 64), torch.randint(0, 10, (32,))
    return Net(), (x,), y, nn.CrossEntropyLoss()


MODELS = {"mlp": mlp, "cnn": cnn, "lstm": lstm}


def measure(framework, model_name, steps):
    torch = load(framework)
    torch.manual_seed(0)
    model, inputs, target, loss_fn = MODELS[model_name](torch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(*inputs), target)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["torch", "disttorch", "both"], default="both")
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    models = list(MODELS) if args.model == "all" else [args.model]
    if args.framework != "both":
        print(json.dumps({m: measure(args.framework, m, args.steps) for m in models}))
        return
    results = {}
    for name in ("torch", "disttorch"):  # separate processes: separate thread pools
        out = subprocess.run([sys.executable, __file__, "--framework", name, "--model",
                              args.model, "--steps", str(args.steps)], capture_output=True,
                             text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    for m in models:
        t, d = results["torch"][m], results["disttorch"][m]
        print(f"{m:5s} train step  torch {t:8.2f} ms   disttorch {d:8.2f} ms   ratio {d / t:.2f}x")


if __name__ == "__main__":
    main()
