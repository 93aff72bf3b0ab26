"""Images per second through the training input pipeline, torchvision's side:
ImageFolder (PIL decode, RGB) -> RandomResizedCrop(224) -> RandomHorizontalFlip
-> ToTensor -> Normalize(ImageNet) -> DataLoader(shuffle, batch 32, 2 worker
processes). The same pipeline as image_pipeline_bench.cpp; run.sh runs both.

    /work/torch2-venv/bin/python torchvision_bench.py <folder> [--workers 2] [--batch 32] [--epochs 3]

One warm-up epoch is not timed (it also starts the workers' imports); best and
median images/s over the timed epochs are printed. Workers are started per
epoch (persistent_workers=False, the default), as Graft's loader starts its
threads per pass; --persistent keeps them (no per-epoch start-up cost).
"""
import argparse
import statistics
import time

import torch
import torchvision
from torchvision import datasets, transforms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--persistent", action="store_true", help="keep the worker processes between epochs")
    a = p.parse_args()
    pipeline = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ds = datasets.ImageFolder(a.folder, transform=pipeline)
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                         persistent_workers=a.persistent and a.workers > 0)
    rates = []
    for epoch in range(a.epochs + 1):
        start = time.perf_counter()
        images = 0
        for x, y in loader:
            images += x.shape[0]
        seconds = time.perf_counter() - start
        if epoch > 0:
            rates.append(images / seconds)
    print(f"torchvision {torchvision.__version__} torch {torch.__version__} images={len(ds)} "
          f"workers={a.workers}{' persistent' if a.persistent else ''} batch={a.batch} best={max(rates):.1f} median={statistics.median(rates):.1f} images/s")


if __name__ == "__main__":
    main()
