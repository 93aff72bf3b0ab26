#!/usr/bin/env python3
"""Runs benchmarks/tokenizer (Graft's tokenizer_bench and tokenizer_hf.py, the
protocol is in tokenizer_bench.cpp) at 1 thread and at every core, checks that
both produce the same ids, and prints the markdown table for docs/performance.md.

    cmake -S . -B build-tok -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRAFT_CUDA=OFF
    ninja -C build-tok tokenizer_bench
    python3 benchmarks/tokenizer/run.py --bench build-tok/benchmarks/tokenizer/tokenizer_bench
"""
import argparse
import datetime
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VOCAB = os.path.join(ROOT, "tests/fixtures/bert_uncased_vocab.txt")
CASES = os.path.join(ROOT, "tests/fixtures/wordpiece_cases.jsonl")


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    corpora, rows = {}, {}
    for line in out.splitlines():
        f = line.split()
        if f[0] == "corpus":
            corpora[f[1]] = dict(texts=int(f[3]), tokens=int(f[5]), checksum=f[7])
        else:
            rows[(f[0], f[1], int(f[2]))] = (float(f[3]), float(f[4]))
    return corpora, rows


def fmt(rate):
    return f"{rate / 1e6:.2f}M"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="the tokenizer_bench executable")
    ap.add_argument("--commit", help="label for a run from an export (git archive), which has no .git")
    args = ap.parse_args()
    import tokenizers
    nproc = os.cpu_count()
    graft, hf, corpora = {}, {}, {}
    for threads in sorted({1, nproc}):
        c, rows = run([args.bench, "--vocab", VOCAB, "--cases", CASES, "--threads", str(threads)])
        graft.update(rows)
        corpora = c
        env = dict(os.environ)
        if threads == 1:
            env["TOKENIZERS_PARALLELISM"] = "false"
        else:
            env["RAYON_NUM_THREADS"] = str(threads)
        c_hf, rows = run([sys.executable, os.path.join(HERE, "tokenizer_hf.py"), VOCAB, CASES, str(threads)], env)
        hf.update(rows)
        for name in c:
            if c[name] != c_hf[name]:
                sys.exit(f"corpus {name}: Graft {c[name]} but tokenizers {c_hf[name]}: not the same tokens")
    if args.commit:
        commit = f"{args.commit} (a clean export: git archive {args.commit})"
    else:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() + " (plus uncommitted changes, if any)"
    print(f"Command: `python3 benchmarks/tokenizer/run.py --bench {args.bench}`  ")
    print(f"Commit: {commit}  ")
    print(f"Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC  ")
    print(f"Machine: nproc {nproc}, load average {open('/proc/loadavg').read().split()[0]} at the end  ")
    print(f"Reference: Hugging Face tokenizers {tokenizers.__version__} (BertWordPieceTokenizer, from Python)  ")
    print("Corpora: " + "; ".join(f"{n}: {v['texts']:,} texts, {v['tokens']:,} tokens" for n, v in corpora.items())
          + "; both sides produced identical ids (checksum)\n")
    print("| corpus | call | threads | Graft tokens/s | tokenizers tokens/s | Graft / tokenizers |")
    print("|---|---|---:|---:|---:|---:|")
    for key in sorted(graft, key=lambda k: (k[0], k[1] != "encode", k[2])):
        g, h = graft[key], hf[key]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {fmt(g[0])} ({fmt(g[1])}) | {fmt(h[0])} ({fmt(h[1])}) "
              f"| {g[0] / h[0]:.1f}x |")
    print("\nCells read median (best) of 7 runs.")


if __name__ == "__main__":
    main()
