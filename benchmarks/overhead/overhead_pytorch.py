"""PyTorch eager's side of benchmarks/overhead: the same measurements as
overhead_graft.cpp (see its header for the protocol), from Python, which is how
most people meet PyTorch's per-op overhead.

Run with the interpreter that has torch (on Debian, python3-torch lives under
/usr/bin/python3):  /usr/bin/python3 overhead_pytorch.py --threads N
Prints "metric median best" lines.
"""
import argparse
import time

import torch


def ns_per_call(fn, calls, warmup_batches, batches):
    """(median, best) over `batches` of the per-call mean in a batch of `calls`."""
    per_call = []
    for b in range(warmup_batches + batches):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        ns = time.perf_counter_ns() - start
        if b >= warmup_batches:
            per_call.append(ns / calls)
    per_call.sort()
    return per_call[len(per_call) // 2], per_call[0]


def print_ns(name, timing):
    print(f"{name} {timing[0]:.0f} {timing[1]:.0f}")


def print_gbs(name, nbytes, timing):
    print(f"{name} {nbytes / timing[0]:.2f} {nbytes / timing[1]:.2f}")


def tiny_add():
    a, b = torch.ones(1), torch.ones(1)
    return ns_per_call(lambda: a + b, 1000, 20, 101)


def tiny_forward_backward():
    w = torch.full((4,), 0.5).requires_grad_()
    b = torch.full((4,), 0.25).requires_grad_()
    x = torch.full((4,), 2.0)

    def step():
        w.grad = None
        b.grad = None
        y = (w * x + b).sum()
        y.backward()

    return ns_per_call(step, 100, 5, 101)


def bandwidth(n):
    # The sawtooth over [-3, 3) that the other two programs use.
    a = (torch.arange(n) % 1000).float() * 0.006 - 3.0
    b = torch.full((n,), 1.5)
    f = 4.0 * n
    gelu = torch.nn.functional.gelu
    print_gbs("add_16M_gbs", 3 * f, ns_per_call(lambda: a + b, 1, 3, 21))
    print_gbs("mul_16M_gbs", 3 * f, ns_per_call(lambda: a * b, 1, 3, 21))
    print_gbs("gelu_16M_gbs", 2 * f, ns_per_call(lambda: gelu(a), 1, 3, 21))
    d, e = a.clone(), a.clone()  # e keeps gelu's inputs in [-3, 3)
    print_gbs("add_inplace_16M_gbs", 3 * f, ns_per_call(lambda: d.add_(b), 1, 3, 21))
    print_gbs("mul_inplace_16M_gbs", 3 * f, ns_per_call(lambda: d.mul_(b), 1, 3, 21))
    print_gbs("gelu_inplace_16M_gbs", 2 * f, ns_per_call(lambda: torch._C._nn.gelu_(e), 1, 3, 21))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# pytorch {torch.__version__} threads {torch.get_num_threads()}")
    print_ns("add_1elem_ns", tiny_add())
    print_ns("fwd_bwd_4elem_ns", tiny_forward_backward())
    bandwidth(16 << 20)


if __name__ == "__main__":
    main()
