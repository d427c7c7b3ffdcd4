"""A LeNet-style CNN with BatchNorm and Dropout on the bundled digits, with a tqdm bar.

    python examples/cnn_digits.py [--epochs 20] [--batch-size 64]
"""

import argparse

from _digits import digits_arrays, make_dataset_class
from tqdm import tqdm

import disttorch as torch
import disttorch.nn.functional as F
from disttorch import nn
from disttorch.utils.data import DataLoader


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)   # 8x8 -> 8x8
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)  # 4x4 -> 4x4 after the first pool
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


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    args = parser.parse_args(argv)
    torch.manual_seed(0)

    Digits = make_dataset_class(torch)
    train_x, train_y, test_x, test_y = digits_arrays()
    train_loader = DataLoader(Digits(train_x, train_y), batch_size=args.batch_size,
                              shuffle=True)
    test_loader = DataLoader(Digits(test_x, test_y), batch_size=256)

    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}", disable=args.no_progress,
                   leave=False)
        total = 0.0
        for images, labels in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(images)
            bar.set_postfix(loss=f"{loss.item():.4f}")
        scheduler.step()
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch + 1:3d}  train loss {total / len(train_loader.dataset):.4f}  "
              f"test accuracy {100 * accuracy:.2f}%")
    print(f"final test accuracy {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
