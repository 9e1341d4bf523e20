"""Regression with a multilayer perceptron, in the style of the PyTorch tutorials.

A small MLP (Linear, BatchNorm1d, ReLU, Dropout) learns a smooth nonlinear function of
eight inputs from noisy samples, with Adam, the one-cycle learning-rate policy,
gradient-norm clipping and a DataLoader; it reports the test set's R^2. This is the
fastnn version: the code of mlp_regression_torch.py (PyTorch) with only the import
lines changed.

    python examples/pytorch/mlp_regression.py --epochs 20
"""
import argparse

import numpy as np
import fastnn as torch
import fastnn.nn as nn
import fastnn.optim as optim
from fastnn.optim.lr_scheduler import OneCycleLR
from fastnn.data import DataLoader, TensorDataset


def make_data(n, seed):
    """Inputs uniform in [-1, 1]^8; target sin(3 x0) + x1 x2 + |x3| - 0.5 + noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 8)).astype(np.float32)
    y = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + np.abs(x[:, 3]) - 0.5
    y = (y + 0.05 * rng.standard_normal(n)).astype(np.float32)
    return x, y


class MLP(nn.Module):
    def __init__(self, n_inputs, hidden, dropout):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_inputs, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train_epoch(model, loader, loss_fn, optimizer, scheduler, max_norm):
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        preds = torch.cat([model(xb) for xb, _ in loader])
        target = torch.cat([yb for _, yb in loader])
        mse = ((preds - target) ** 2).mean().item()
        r2 = 1 - ((preds - target) ** 2).sum() / ((target - target.mean()) ** 2).sum()
    return mse, r2.item()


def main():
    parser = argparse.ArgumentParser(description="MLP regression")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--max-norm", type=float, default=1.0)
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    x, y = make_data(args.train_size + 1000, args.seed)
    x_train, y_train = torch.from_numpy(x[:args.train_size]), torch.from_numpy(y[:args.train_size])
    x_test, y_test = torch.from_numpy(x[args.train_size:]), torch.from_numpy(y[args.train_size:])
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                              shuffle=True)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=500)

    model = MLP(x.shape[1], args.hidden, args.dropout)
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                           steps_per_epoch=len(train_loader))
    r2 = float("nan")
    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer, scheduler,
                                 args.max_norm)
        mse, r2 = evaluate(model, test_loader)
        print(f"epoch {epoch:3d}  train loss {train_loss:.4f}  test mse {mse:.4f}  "
              f"test R^2 {r2:.4f}  lr {scheduler.get_last_lr()[0]:.5f}")
    print(f"final test R^2: {r2:.4f}")


if __name__ == "__main__":
    main()
