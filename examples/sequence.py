"""An LSTM that learns to continue sine waves (PyTorch's time-sequence-prediction task).

Each training sequence is a sine wave with a random phase and a frequency drawn from a
band; the model reads it one step at a time and predicts the next value. Reported: the
loss curve (MSE), then the test MSE and accuracy, the share of test predictions within
0.05 of the truth.
    python examples/sequence.py [--epochs 20] [--hidden 32]
"""

import argparse
import math

import numpy as np

import disttorch as torch
from disttorch import nn


def sine_waves(count, length, rng):
    phase = rng.uniform(0, 2 * math.pi, size=(count, 1))
    freq = rng.uniform(0.15, 0.35, size=(count, 1))
    steps = np.arange(length + 1)[None, :]
    waves = np.sin(phase + freq * steps).astype(np.float32)
    return waves[:, :-1, None], waves[:, 1:, None]  # inputs, next values


class Predictor(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--length", type=int, default=40)
    parser.add_argument("--train-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train_x, train_y = sine_waves(args.train_size, args.length, rng)
    test_x, test_y = sine_waves(128, args.length, rng)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(train_x),
                                             torch.from_numpy(train_y))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True)

    model = Predictor(args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    warmup = 5  # the first steps have too little context to predict from
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x)[:, warmup:], y[:, warmup:])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(x)
        print(f"epoch {epoch + 1:3d}  train mse {total / len(dataset):.5f}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(test_x))[:, warmup:]
        target = torch.from_numpy(test_y)[:, warmup:]
        mse = loss_fn(pred, target).item()
        accuracy = ((pred - target).abs() < 0.05).float().mean().item()
    print(f"test mse {mse:.5f}  accuracy (|error| < 0.05) {100 * accuracy:.1f}%")
    return mse, accuracy


if __name__ == "__main__":
    main()
