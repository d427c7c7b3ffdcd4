"""PyTorch's quickstart tutorial flow on disttorch, with the bundled digits data.

Dataset and DataLoader, an MLP, train and test loops, save, load and predict.
    python examples/quickstart.py [--epochs 30] [--batch-size 64]
"""

import argparse
import os
import tempfile

from _digits import digits_arrays, make_dataset_class

import disttorch as torch
from disttorch import nn
from disttorch.utils.data import DataLoader


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    total = 0.0
    for X, y in dataloader:
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * len(X)
    return total / len(dataloader.dataset)


def test(dataloader, model, loss_fn):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item() * len(X)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    size = len(dataloader.dataset)
    return test_loss / size, correct / size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    torch.manual_seed(0)

    Digits = make_dataset_class(torch)
    train_x, train_y, test_x, test_y = digits_arrays()
    train_dataloader = DataLoader(Digits(train_x, train_y), batch_size=args.batch_size,
                                  shuffle=True)
    test_dataloader = DataLoader(Digits(test_x, test_y), batch_size=args.batch_size)

    model = NeuralNetwork()
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    for epoch in range(args.epochs):
        train_loss = train(train_dataloader, model, loss_fn, optimizer)
        test_loss, accuracy = test(test_dataloader, model, loss_fn)
        print(f"epoch {epoch + 1:3d}  train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
              f"accuracy {100 * accuracy:.1f}%")

    path = os.path.join(tempfile.mkdtemp(), "model.pth")
    torch.save(model.state_dict(), path)
    print(f"Saved PyTorch Model State to {path}")
    model = NeuralNetwork()
    model.load_state_dict(torch.load(path, weights_only=True))

    model.eval()
    x, y = Digits(test_x, test_y)[0]
    with torch.no_grad():
        predicted = model(x[None]).argmax(1).item()
    print(f'Predicted: "{predicted}", Actual: "{y.item()}"')
    _, accuracy = test(test_dataloader, model, loss_fn)
    print(f"final test accuracy {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
