#!/usr/bin/env python3
"""The benchmark workloads W1-W5 in PyTorch (eager), one thread, for the ratios in the
README's speed table. Optional: needs `torch`; not part of CI.

    python3 scripts/bench-pytorch.py            # one thread, as `cargo bench`
    python3 scripts/bench-pytorch.py --lenet-epoch   # LeNet epochs on all cores (the main job)

Each workload runs in this one process after a warm-up; the figure is the median of
`repeats` timings of `n` calls each, like criterion's per-iteration median.
"""
import statistics
import sys
import time

import torch
from torch import nn


def median_time(f, n, repeats=15):
    for _ in range(max(3, n // 4)):
        f()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            f()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def workloads():
    torch.manual_seed(0)
    results = {}
    w1 = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)).eval()
    x1 = torch.randn(1, 16)
    with torch.inference_mode():
        results["W1 16-32-32-4 tanh, 1 sample, inference"] = median_time(lambda: w1(x1), 2000)

    w2 = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    x2, y2 = torch.randn(32, 784), torch.randint(0, 10, (32,))
    adam = torch.optim.Adam(w2.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()

    def w2_step():
        adam.zero_grad(set_to_none=False)
        loss(w2(x2), y2).backward()
        adam.step()

    results["W2 784-128-10 relu, batch 32, Adam training step"] = median_time(w2_step, 200)
    with torch.inference_mode():
        results["W4 784-128-10 relu, batch 32, inference"] = median_time(lambda: w2(x2), 500)

    net = lenet()
    x3, y3 = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    sgd = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def w3_step():
        sgd.zero_grad(set_to_none=False)
        loss(net(x3), y3).backward()
        sgd.step()

    results["W3 LeNet-5, batch 32, SGD-momentum training step"] = median_time(w3_step, 40)
    net.eval()
    with torch.inference_mode():
        x5 = torch.randn(1, 1, 28, 28)
        results["W5 LeNet-5 inference, batch 1"] = median_time(lambda: net(x5), 500)
        results["W5 LeNet-5 inference, batch 32"] = median_time(lambda: net(x3), 50)
    return results


def lenet_epochs(epochs=3):
    """The main job's epoch in PyTorch: LeNet-5, Adam 1e-3, batches of 32 over 4,000
    standardised digits-sized inputs, evaluation on 500, on every core."""
    torch.manual_seed(0)
    net = lenet()
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()
    x, y = torch.randn(4000, 1, 28, 28), torch.randint(0, 10, (4000,))
    dev = torch.randn(500, 1, 28, 28)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(4000)
        for i in range(0, 4000, 32):
            batch = order[i:i + 32]
            adam.zero_grad()
            loss(net(x[batch]), y[batch]).backward()
            adam.step()
        net.eval()
        with torch.inference_mode():
            for i in range(0, 500, 32):
                net(dev[i:i + 32])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    if "--lenet-epoch" in sys.argv:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        print(f"LeNet-5 epoch (4,000 train + 500 dev digits, batch 32, Adam): {lenet_epochs():.3f} s")
    else:
        torch.set_num_threads(1)
        print(f"PyTorch {torch.__version__}, eager, 1 thread")
        for name, seconds in workloads().items():
            unit, scale = ("µs", 1e6) if seconds < 1e-2 else ("ms", 1e3)
            if seconds < 1e-6:
                unit, scale = "ns", 1e9
            print(f"{name}: {seconds * scale:.1f} {unit}")
