"""cnn3-64 in PyTorch on the CPU: the same network, batch and optimiser as the
project's cnn3-64 yardstick (lib/bench/training-speed.ts buildCnn3), timed the
same way (warm-up steps, then the median of timed rounds). `npm run bench --
--peer` runs it where `import torch` works and prints one JSON line."""
import json
import sys
import time

import torch
from torch import nn


def cnn3(classes: int = 7) -> nn.Module:
    # conv3x3 32 > maxpool2 > conv3x3 64 > maxpool2 > conv3x3 128 > global avg pool > dense 7, ReLU, 'same' padding
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, classes),
    )


def main() -> None:
    warmup, rounds, steps, threads = (int(a) for a in sys.argv[1:5])
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    model = cnn3()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(32, 1, 64, 64)
    y = torch.randint(0, 7, (32,))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * 32 / (time.perf_counter() - t0))
    rates.sort()
    print(json.dumps({"torch": torch.__version__, "threads": threads, "train_img_per_s": rates[len(rates) // 2], "rounds": rates}))


if __name__ == "__main__":
    main()
