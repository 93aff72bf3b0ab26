#!/usr/bin/env python3
"""Tables and plot for benchmarks/kernels/sgemm_run.sh.

Reads the "peak" lines of peak_fma_bench and the "#"/"result" lines of
sgemm_bench (every library, every thread count), prints markdown for
docs/performance.md (section "SGEMM (benchmarks/kernels)") and saves a plot of
GFLOP/s against size with the measured peak drawn as a line.

    sgemm_report.py --peak peak.txt --results results.txt [--plot docs/img/sgemm.png]
                    [--command "..."] [--load-before "..."] [--load-after "..."]
"""
import argparse
import sys

LIBS = ["graft", "openblas", "blis", "onednn", "eigen"]
NAMES = {"graft": "Graft", "openblas": "OpenBLAS", "blis": "BLIS", "onednn": "oneDNN", "eigen": "Eigen"}


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def read(peak_path, results_path):
    peak = {}  # threads -> median GFLOP/s of the best float32 variant
    for line in open(peak_path):
        if line.startswith("peak "):
            f = fields(line)
            if f["variant"].endswith("fp32"):
                t = int(f["threads"])
                peak[t] = max(peak.get(t, 0.0), float(f["median"]))
    about, results, invalid = {}, {}, []
    for line in open(results_path):
        if line.startswith("# ") and ":" in line:
            lib, text = line[2:].split(":", 1)
            about.setdefault(lib.strip(), text.strip())
        elif line.startswith("result "):
            f = fields(line)
            key = (int(f["threads"]), f["kind"], int(f["m"]), int(f["k"]), int(f["n"]))
            if "median" in f:
                results.setdefault(key, {})[f["lib"]] = float(f["median"])
            else:
                invalid.append(f"{f['lib']} {f['m']}x{f['k']}x{f['n']} threads {f['threads']}: relerr {f.get('relerr')}")
    return peak, about, results, invalid


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def table(threads, peak, results):
    libs = [l for l in LIBS if any(l in r for k, r in results.items() if k[0] == threads)]
    head = ["M x K x N"] + [NAMES[l] for l in libs] + ["Graft/OpenBLAS", "Graft/oneDNN", "Graft % of peak"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for key in sorted(k for k in results if k[0] == threads):
        if key[1] == "dl":
            continue
        lines.append(row(key, libs, peak.get(threads), results[key]))
    for key in [k for k in results if k[0] == threads and k[1] == "dl"]:
        lines.append(row(key, libs, peak.get(threads), results[key]))
    return "\n".join(lines)


def row(key, libs, peak, r):
    _, kind, m, k, n = key
    g = r.get("graft")
    cells = [f"{m}x{k}x{n}" + (" (DL)" if kind == "dl" else "")]
    cells += [f"{r[l]:.1f}" if l in r else "-" for l in libs]
    cells += [ratio(g, r.get("openblas")), ratio(g, r.get("onednn")), f"{100 * g / peak:.0f}%" if g and peak else "-"]
    return "| " + " | ".join(cells) + " |"


def plot(path, peak, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thread_counts = sorted({k[0] for k in results})
    fig, axes = plt.subplots(1, len(thread_counts), figsize=(6 * len(thread_counts), 4.5), squeeze=False)
    for ax, threads in zip(axes[0], thread_counts):
        keys = sorted(k for k in results if k[0] == threads and k[1] == "square")
        sizes = [k[2] for k in keys]
        for lib in LIBS:
            pts = [(s, results[k][lib]) for s, k in zip(sizes, keys) if lib in results[k]]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=NAMES[lib], linewidth=2.5 if lib == "graft" else 1.2)
        if threads in peak:
            ax.axhline(peak[threads], color="black", linestyle="--", label=f"measured peak {peak[threads]:.0f}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes], rotation=45)
        ax.set_xlabel("square size M = K = N")
        ax.set_ylabel("GFLOP/s (median)")
        ax.set_title(f"SGEMM, {threads} thread{'s' if threads > 1 else ''}")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peak", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--plot")
    ap.add_argument("--peak-cpu")
    ap.add_argument("--results-cpu")
    ap.add_argument("--command", default="benchmarks/kernels/sgemm_run.sh")
    ap.add_argument("--load-before", default="?")
    ap.add_argument("--load-after", default="?")
    ap.add_argument("--date", default="")
    ap.add_argument("--machine", default="")
    args = ap.parse_args()
    peak, about, results, invalid = read(args.peak, args.results)
    out = [f"Command: `{args.command}`  ",
           f"Date: {args.date}; machine: {args.machine}  ",
           f"Load average (1, 5, 15 min) before: {args.load_before}; after: {args.load_after}  ",
           "GFLOP/s, median of repeats (caches flushed between repeats when the operands fit in L3); "
           "C = A·B, float32, row-major, no transposes; DL shapes are M x K x N of common layers.",
           "", "Libraries:", ""]
    out += [f"- {NAMES.get(lib, lib)}: {text}" for lib, text in about.items()]
    out += ["", "Measured peak (peak_fma_bench, median GFLOP/s of the best float32 FMA loop): " +
            ", ".join(f"{t} thread{'s' if t > 1 else ''}: {p:.1f}" for t, p in sorted(peak.items())), ""]
    for threads in sorted({k[0] for k in results}):
        out += [f"**{threads} thread{'s' if threads > 1 else ''}**", "", table(threads, peak, results), ""]
    if args.peak_cpu and args.results_cpu:
        peak_cpu, _, results_cpu, invalid_cpu = read(args.peak_cpu, args.results_cpu)
        invalid += invalid_cpu
        out += ["**1 thread, timed by the thread's CPU clock** (sgemm_bench --clock cpu: leaves out the time "
                "other processes take from the core, though not their effect on the shared caches; peak by the "
                f"same clock: {peak_cpu.get(1, 0):.1f})", "", table(1, peak_cpu, results_cpu), ""]
    if invalid:
        out += ["Not timed (result differed from Graft's): " + "; ".join(invalid), ""]
    if args.plot:
        plot(args.plot, peak, results)
        out += [f"![SGEMM GFLOP/s against size](img/{args.plot.split('/')[-1]})", ""]
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
