"""PyTorch side of benchmarks/train: the same models, optimizers, batch sizes and
data as train_bench.cpp, one case per process, the same output line:

    <case> <seconds> <peak_rss_kib> <final_loss>

  mlp       784-512-256-10, SGD momentum 0.9 lr 0.02, batch 128, one epoch
  cnn       conv3x3 32 (no bias) BN ReLU pool, conv3x3 64 BN ReLU pool, fc 3136-128,
            ReLU, Dropout 0.25, fc 10 (nn/models/small_cnn.h); Adam lr 2e-3, batch 128
  resnet18  torchvision ResNet-18 (ImageNet stem; resnet18_cifar: CIFAR stem), 3x32x32, 10 classes,
            SGD momentum 0.9 lr 0.01, batch 64; median step over --steps after --warmup

Works with PyPI torch 2.x (/work/torch2-venv/bin/python) and Debian's torch 1.13
(/usr/bin/python3). torchvision is optional: the ResNet is built here when it is
absent (same layers, so the same work).

Run: python torch_train.py --case mlp|cnn|resnet18|resnet18_cifar [--threads N] [--limit N] [--steps 20] [--warmup 3]
"""
import argparse
import gzip
import os
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_train(data_dir, limit):
    def find(name):
        plain = os.path.join(data_dir, name)
        return plain if os.path.exists(plain) else plain + ".gz"
    images = read_idx(find("train-images-idx3-ubyte"))
    labels = read_idx(find("train-labels-idx1-ubyte"))
    n = min(limit, len(images)) if limit > 0 else len(images)
    x = torch.from_numpy(images[:n].astype(np.float32))
    x = (x * (1.0 / 255.0) - 0.2860) / 0.3530
    return x, torch.from_numpy(labels[:n].astype(np.int64))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


def resnet18(cifar):
    try:
        import torchvision
        model = torchvision.models.resnet18(num_classes=10)
        if cifar:
            model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            model.maxpool = nn.Identity()
        return model
    except ImportError:
        stem = [nn.Conv2d(3, 64, 3, 1, 1, bias=False)] if cifar else [nn.Conv2d(3, 64, 7, 2, 3, bias=False)]
        pool = [] if cifar else [nn.MaxPool2d(3, 2, 1)]
        layers, inplanes = stem + [nn.BatchNorm2d(64), nn.ReLU(inplace=True)] + pool, 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)]
            inplanes = planes
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
        return nn.Sequential(*layers)


def run_epoch(model, opt, x, y, gen):
    loss_fn = nn.CrossEntropyLoss()
    n, batch = len(x), 128
    perm = torch.randperm(n, generator=gen)
    last = 0.0
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i + batch >= n:
            last = loss.item()
    return time.perf_counter() - t0, last


def bench_epoch(args):
    x, y = load_train(args.data, args.limit)
    gen = torch.Generator().manual_seed(42)
    torch.manual_seed(42)
    if args.case == "mlp":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
        return run_epoch(model, opt, x.reshape(-1, 784), y, gen)
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    return run_epoch(model, opt, x.reshape(-1, 1, 28, 28), y, gen)


def bench_resnet18(args):
    torch.manual_seed(42)
    model = resnet18(args.case == "resnet18_cifar")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(64, 3, 32, 32)
    y = torch.tensor([i * 7 % 10 for i in range(64)])
    times, last = [], 0.0
    for s in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        last = loss.item()
        if s >= args.warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True, choices=["mlp", "cnn", "resnet18", "resnet18_cifar"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--data", default=DATA)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__} case={args.case} threads={torch.get_num_threads()} "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")
    seconds, loss = bench_resnet18(args) if args.case.startswith("resnet18") else bench_epoch(args)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{args.case} {seconds:.6f} {rss_kib} {loss:.6f}", flush=True)


if __name__ == "__main__":
    main()
