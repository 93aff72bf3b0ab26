"""PyTorch's side of benchmarks/kernels/conv_bench.cpp: the same shapes and
passes (F.conv2d forward, forward+backward for input and weight), batch 32,
float32 NCHW, printed as "name pass median_ms best_ms median_cpu_ms best_cpu_ms"
(wall-clock, then the process's CPU time).

    python3 benchmarks/kernels/conv_torch.py --threads 2 [--reps 7] [--batch 32] [--only resnet|dw]
"""
import argparse
import time

import torch
import torch.nn.functional as F


def shapes():
    out = []
    for c, hw in [(64, 56), (128, 28), (256, 14), (512, 7)]:
        out.append((f"resnet18_{hw}x{hw}x{c}", c, hw, 1, 1))
    for c, hw in [(32, 112), (144, 56), (192, 28), (576, 14), (960, 7)]:
        for s in (1, 2):
            out.append((f"dw_{hw}x{hw}x{c}_s{s}", c, hw, s, c))
    return out


def time_it(name, pas, reps, fn):
    fn()
    ms, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    ms.sort()
    cpu.sort()
    print(f"{name} {pas} {ms[len(ms) // 2]:.3f} {ms[0]:.3f} {cpu[len(cpu) // 2]:.3f} {cpu[0]:.3f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__}, batch {a.batch}, {torch.get_num_threads()} thread(s), "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    for name, c, hw, s, g in shapes():
        if a.only and not name.startswith(a.only):
            continue
        x = torch.randn(a.batch, c, hw, hw)
        w = torch.randn(c, c // g, 3, 3)
        with torch.no_grad():
            time_it(name, "fwd", a.reps, lambda: F.conv2d(x, w, None, s, 1, 1, g))
        xg = x.clone().requires_grad_()
        wg = w.clone().requires_grad_()
        gy = torch.randn_like(F.conv2d(x, w, None, s, 1, 1, g))

        def fwdbwd():
            xg.grad = None
            wg.grad = None
            F.conv2d(xg, wg, None, s, 1, 1, g).backward(gy)
        time_it(name, "fwdbwd", a.reps, fwdbwd)


if __name__ == "__main__":
    main()
