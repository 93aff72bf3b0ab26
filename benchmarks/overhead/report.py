"""Turns run.sh's raw results into the markdown section of docs/performance.md.

  report.py RESULTS --command C --commit H --date D --machine M --torch V   -> section on stdout
  report.py --replace-section DOC < section                       -> DOC updated in place

RESULTS holds lines "impl policy threads metric median best" (impl: graft, libtorch,
pytorch; policy: default or passive). For each reference the better policy is
kept per cell. Standard library only.
"""
import argparse
import sys

TITLE = "## Per-op overhead and elementwise bandwidth (benchmarks/overhead)"

# metric -> (label, lower_is_better, goal against ("libtorch", max ratio) or ("pytorch", min ratio))
METRICS = {
    "add_1elem_ns": ("add, 1-element float32 (ns/op)", True, ("libtorch", 0.5)),
    "fwd_bwd_4elem_ns": ("(w*x+b).sum() + backward, 4 elements (ns)", True, ("libtorch", 0.5)),
    "add_16M_gbs": ("add, 16M float32 (GB/s)", False, ("pytorch", 0.9)),
    "mul_16M_gbs": ("mul, 16M float32 (GB/s)", False, ("pytorch", 0.9)),
    "gelu_16M_gbs": ("gelu (erf), 16M float32 (GB/s)", False, ("pytorch", 0.9)),
    "add_inplace_16M_gbs": ("add_ in place, 16M float32 (GB/s)", False, ("pytorch", 0.9)),
    "mul_inplace_16M_gbs": ("mul_ in place, 16M float32 (GB/s)", False, ("pytorch", 0.9)),
    "gelu_inplace_16M_gbs": ("gelu_ in place, 16M float32 (GB/s)", False, ("pytorch", 0.9)),
}
IMPLS = ("graft", "libtorch", "pytorch")


def load(path):
    """{(impl, threads, metric): (median, best, policy)}, keeping each reference's better policy
    (judged by the median)."""
    kept = {}
    for line in open(path):
        impl, policy, threads, metric, median, best = line.split()
        key, entry = (impl, int(threads), metric), (float(median), float(best), policy)
        lower = METRICS[metric][1]
        if key not in kept or (entry[0] < kept[key][0] if lower else entry[0] > kept[key][0]):
            kept[key] = entry
    return kept


def num(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def cell(entry):
    if entry is None:
        return "n/a"
    median, best, policy = entry
    return f"{num(median)} ({num(best)})" + (" P" if policy == "passive" else "")


def ratio(a, b):
    return f"{a[0] / b[0]:.2f}x" if a and b else "n/a"


def table(kept, threads):
    rows = ["| measurement | threads | Graft | LibTorch | PyTorch | Graft / LibTorch | Graft / PyTorch | goal |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    verdicts = []
    for metric, (label, lower, (ref, bound)) in METRICS.items():
        for t in threads:
            g, lt, pt = (kept.get((impl, t, metric)) for impl in IMPLS)
            r = lt if ref == "libtorch" else pt
            if g and r:
                x = g[0] / r[0]
                met = x <= bound if lower else x >= bound
                goal = f"{'<=' if lower else '>='} {bound}x {ref}: {'met' if met else 'MISSED'}"
                verdicts.append((met, f"{label} at {t} thread(s): {x:.3f}x {ref} (best vs best {g[1] / r[1]:.2f}x)"))
            else:
                goal = "n/a"
            rows.append(f"| {label} | {t} | {cell(g)} | {cell(lt)} | {cell(pt)} | {ratio(g, lt)} | {ratio(g, pt)} | {goal} |")
    return rows, verdicts


def section(args):
    kept = load(args.results)
    threads = sorted({t for (_, t, _) in kept})
    rows, verdicts = table(kept, threads)
    missed = [text for met, text in verdicts if not met]
    lines = [TITLE, "",
             f"Command: `{args.command}`  ",
             f"Commit: {args.commit}  ",
             f"Date: {args.date}  ",
             f"Machine: {args.machine}  ",
             f"Reference: torch {args.torch} (Debian libtorch-dev / python3-torch)", "",
             *rows, "",
             "Cells read median (best). Per-op times are per-call means of 101 batches; bandwidths are bytes read "
             "+ written divided by the time of one call, over 21 calls: out-of-place rows allocate a fresh output each call (as user code does, so the OS's first touch of new pages is included), in-place rows time the kernel alone. P: the reference "
             "was faster with OMP_WAIT_POLICY=PASSIVE than with the default policy, so that run is shown. Ratios "
             "and goals use medians. Goals: Graft's per-op overhead at most 0.5x LibTorch's; elementwise "
             "bandwidth at least 0.9x PyTorch's.",
             "",
             "Goals missed: " + ("; ".join(missed) if missed else "none") + "."]
    return "\n".join(lines)


def replace_section(doc_path, text):
    """Swaps the section under TITLE (up to the next '## ') for text; appends it if absent."""
    try:
        doc = open(doc_path).read().splitlines()
    except FileNotFoundError:
        doc = ["# Performance", ""]
    start = next((i for i, line in enumerate(doc) if line.strip() == TITLE), None)
    new = text.rstrip("\n").splitlines()
    if start is None:
        doc = doc + ([""] if doc and doc[-1] else []) + new
    else:
        end = next((i for i in range(start + 1, len(doc)) if doc[i].startswith("## ")), len(doc))
        doc = doc[:start] + new + ([""] if end < len(doc) else []) + doc[end:]
    with open(doc_path, "w") as f:
        f.write("\n".join(doc) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results", nargs="?")
    p.add_argument("--command", default="")
    p.add_argument("--date", default="")
    p.add_argument("--commit", default="")
    p.add_argument("--machine", default="")
    p.add_argument("--torch", default="")
    p.add_argument("--replace-section", metavar="DOC")
    args = p.parse_args()
    if args.replace_section:
        replace_section(args.replace_section, sys.stdin.read())
    else:
        print(section(args))


if __name__ == "__main__":
    main()
