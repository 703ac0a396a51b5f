#!/usr/bin/python3
"""Training speed of the same BiLSTM in PyTorch, for BENCHMARKS.md.

A peer to compare `idsledger bench train` with, not a dependency: Debian's
python3-torch (apt-get install -y python3-torch), run as /usr/bin/python3.
The model is idsledger's BiLSTM at the shipped shape: T steps of F features
plus the positional one-hot (F+T inputs per step), a bidirectional LSTM of H
units per direction, the two last states into a dense layer of C classes,
cross-entropy, Adam at 0.01, mini-batches of B windows of random data. It
prints one JSON object, like `idsledger bench train --json`.

    /usr/bin/python3 scripts/bench-torch-train.py [--t 36 --f 1 --hidden 32 --batch 64 --threads 2 --seconds 10]
"""
import argparse
import json
import time

import torch


class BiLSTM(torch.nn.Module):
    def __init__(self, inputs, hidden, classes):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden, batch_first=True, bidirectional=True)
        self.dense = torch.nn.Linear(2 * hidden, classes)

    def forward(self, x):
        _, (h, _) = self.lstm(x)  # h: [2, B, H], forward then backward last state
        return self.dense(torch.cat([h[0], h[1]], dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--t", type=int, default=36)
    ap.add_argument("--f", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--windows", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = torch.rand(a.windows, a.t, a.f)
    pos = torch.eye(a.t).expand(a.windows, a.t, a.t)  # positional one-hot per step
    x = torch.cat([x, pos], dim=2)
    y = torch.randint(0, a.classes, (a.windows,))
    model = BiLSTM(a.f + a.t, a.hidden, a.classes)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.ones(a.classes))

    def step(lo):
        xb, yb = x[lo:lo + a.batch], y[lo:lo + a.batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    step(0)  # warm-up
    done, lo, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < a.seconds:
        step(lo)
        done += a.batch
        lo = (lo + a.batch) % (a.windows - a.batch + 1)
    el = time.perf_counter() - start
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "config": {"t": a.t, "f": a.f, "hidden": a.hidden, "classes": a.classes, "batch": a.batch},
        "train_windows_per_second": round(done / el, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
