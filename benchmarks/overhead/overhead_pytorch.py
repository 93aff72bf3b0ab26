"""PyTorch eager's side of benchmarks/overhead: the same measurements as
overhead_graft.cpp (see its header for the protocol), from Python, which is how
most people meet PyTorch's per-op overhead.

Run with the interpreter that has torch (on Debian, python3-torch lives under
/usr/bin/python3):  /usr/bin/python3 overhead_pytorch.py --threads N
Prints "metric value" lines.
"""
import argparse
import time

import torch


def median_ns_per_call(fn, calls, warmup_batches, batches):
    per_call = []
    for b in range(warmup_batches + batches):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        ns = time.perf_counter_ns() - start
        if b >= warmup_batches:
            per_call.append(ns / calls)
    per_call.sort()
    return per_call[len(per_call) // 2]


def tiny_add_ns():
    a, b = torch.ones(1), torch.ones(1)
    return median_ns_per_call(lambda: a + b, 1000, 20, 101)


def tiny_forward_backward_ns():
    w = torch.full((4,), 0.5).requires_grad_()
    b = torch.full((4,), 0.25).requires_grad_()
    x = torch.full((4,), 2.0)

    def step():
        w.grad = None
        b.grad = None
        y = (w * x + b).sum()
        y.backward()

    return median_ns_per_call(step, 100, 5, 101)


def gbs(fn, nbytes):
    return nbytes / median_ns_per_call(fn, 1, 3, 21)


def bandwidth(n):
    # The sawtooth over [-3, 3) that the other two programs use.
    a = (torch.arange(n) % 1000).float() * 0.006 - 3.0
    b = torch.full((n,), 1.5)
    f = 4.0 * n
    gelu = torch.nn.functional.gelu
    print(f"add_16M_gbs {gbs(lambda: a + b, 3 * f):.2f}")
    print(f"mul_16M_gbs {gbs(lambda: a * b, 3 * f):.2f}")
    print(f"gelu_16M_gbs {gbs(lambda: gelu(a), 2 * f):.2f}")
    d, e = a.clone(), a.clone()  # e keeps gelu's inputs in [-3, 3)
    print(f"add_inplace_16M_gbs {gbs(lambda: d.add_(b), 3 * f):.2f}")
    print(f"mul_inplace_16M_gbs {gbs(lambda: d.mul_(b), 3 * f):.2f}")
    print(f"gelu_inplace_16M_gbs {gbs(lambda: torch._C._nn.gelu_(e), 2 * f):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# pytorch {torch.__version__} threads {torch.get_num_threads()}")
    print(f"add_1elem_ns {tiny_add_ns():.0f}")
    print(f"fwd_bwd_4elem_ns {tiny_forward_backward_ns():.0f}")
    bandwidth(16 << 20)


if __name__ == "__main__":
    main()
