"""PyTorch side of benchmarks/transfer: the same three modes as frozen_cost.cpp, one
per process, the same output line:

    <mode> <median_step_seconds> <min_step_seconds> <peak_rss_kib> <rss_after_build_kib> <trainable_params>

  full     torchvision ResNet-18 (10 classes), every parameter trains
  frozen   conv1, bn1, layer1..layer3 with requires_grad off, the optimizer given only
           the trainable parameters, and the frozen BatchNorms put back in eval after
           model.train() (the idiom PyTorch needs; Graft pins them)
  forward  the full model in eval under torch.no_grad()

SGD momentum 0.9 lr 0.01, a fixed random batch. Needs torchvision
(/work/torch2-venv/bin/python has it).

Run: python torch_frozen_cost.py --mode full|frozen|forward [--batch 32] [--size 128]
                                 [--steps 10] [--warmup 2] [--threads 2]
"""
import argparse
import resource
import statistics
import time

import torch
import torchvision


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["full", "frozen", "forward"], required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model = torchvision.models.resnet18(num_classes=10)
    frozen = [model.conv1, model.bn1, model.layer1, model.layer2, model.layer3]
    if a.mode == "frozen":
        for part in frozen:
            for p in part.parameters():
                p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    sgd = torch.optim.SGD(trainable, lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.tensor([i * 7 % 10 for i in range(a.batch)])
    built = rss_kib()
    print(f"# torch {torch.__version__} frozen_cost mode={a.mode} batch={a.batch} size={a.size} "
          f"threads={torch.get_num_threads()} steps={a.steps} warmup={a.warmup}")

    if a.mode == "forward":
        model.eval()
    else:
        model.train()
        if a.mode == "frozen":
            for part in frozen:
                for m in part.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.eval()
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        if a.mode == "forward":
            with torch.no_grad():
                model(x)
        else:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            sgd.zero_grad(set_to_none=True)
            loss.backward()
            sgd.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    n_trainable = 0 if a.mode == "forward" else sum(p.numel() for p in trainable)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{a.mode} {statistics.median(times):.6f} {min(times):.6f} {peak} {built} {n_trainable}")


if __name__ == "__main__":
    main()
