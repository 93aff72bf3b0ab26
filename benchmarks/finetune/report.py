"""The markdown table of benchmarks/finetune/run.sh, from the files its runs left in
--dir: graft.json and graft.log (examples/transfer_fmnist --json, and its stdout,
whose "  <phase> epoch i/n: ... (S s)" lines give the per-epoch times),
optionally graft_plain.json/.log (--no-cache), torch_cached.json and
torch_plain.json (torch_recipe.py --json).

A run that did not go through every epoch (torch_recipe.py --measure-epochs, or
Graft's --no-cache run) is extrapolated: one-off time + each phase's median
epoch x its epoch count. Ratios are "PyTorch total / Graft total": how many
times faster Graft's cached fine-tune is.
"""
import argparse
import json
import os
import re
import statistics
import time

EPOCH_LINE = re.compile(r"^\s+(\w+) epoch (\d+)/(\d+): .*eval acc ([\d.]+)% \(([\d.]+)s\)$")


def graft_run(folder, name, full_epochs):
    """A Graft run as torch_recipe.py's JSON shape."""
    with open(os.path.join(folder, name + ".json")) as f:
        j = json.load(f)
    phases = {}
    with open(os.path.join(folder, name + ".log")) as f:
        for line in f:
            m = EPOCH_LINE.match(line.rstrip("\n"))
            if m:
                p = phases.setdefault(m[1], {"name": m[1], "epochs": int(m[3]), "epoch_seconds": [], "val_acc": []})
                p["epoch_seconds"].append(float(m[5]))
                p["val_acc"].append(float(m[4]) / 100)
    out = []
    for p in phases.values():
        p["measured_epochs"] = len(p["epoch_seconds"])
        p["epochs"] = full_epochs.get(p["name"], p["epochs"])
        p["median_epoch_seconds"] = statistics.median(p["epoch_seconds"])
        out.append(p)
    complete = all(p["measured_epochs"] == p["epochs"] for p in out)
    oneoff = j.get("cache_seconds", 0)
    total = j["pretrained_seconds"] if complete else oneoff + sum(p["median_epoch_seconds"] * p["epochs"] for p in out)
    return {"oneoff_seconds": oneoff, "total_seconds": total, "complete": complete,
            "final_acc": j["pretrained_acc"] if complete else None, "last_acc": j["pretrained_acc"],
            "phases": out, "eval_images": j["eval_images"], "train_images": j["train_images"]}


def load(folder, name):
    path = os.path.join(folder, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def epochs_text(r):
    if r["complete"]:
        return " + ".join(str(p["epochs"]) for p in r["phases"])
    return "measured " + " + ".join(f"{p['measured_epochs']} of {p['epochs']}" for p in r["phases"]) + ", total extrapolated"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--command", default="benchmarks/finetune/run.sh")
    ap.add_argument("--commit", default="")
    ap.add_argument("--cpu", default="")
    ap.add_argument("--load", default="")
    a = ap.parse_args()

    cached, plain = load(a.dir, "torch_cached"), load(a.dir, "torch_plain")
    full = {p["name"]: p["epochs"] for p in cached["phases"]}
    graft = graft_run(a.dir, "graft", full)
    rows = [("Graft, trunk output cached (examples/transfer_fmnist)", graft)]
    if os.path.exists(os.path.join(a.dir, "graft_plain.json")):
        rows.append(("Graft, no cache (--no-cache)", graft_run(a.dir, "graft_plain", full)))
    rows.append((f"PyTorch {cached['torch_version']}, caching by hand", cached))
    rows.append((f"PyTorch {plain['torch_version']}, plain loop", plain))

    print(f"### Fine-tuning EfficientNet-Lite0 on Fashion-MNIST: Graft vs PyTorch {cached['torch_version']}")
    print()
    print(f"Command: `{a.command}`" + (f", commit {a.commit}" if a.commit else "") +
          f", {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {a.cpu}, {cached['threads']} thread(s)" +
          (f", load average {a.load} at the end" if a.load else "") + ".")
    print(f"Data: {cached['train_images']} training images (the same 100 per class on both sides), "
          f"{cached['eval_images']} test images evaluated after every epoch.")
    print()
    print("| run | epochs | one-off (s) | probe epoch (s) | top epoch (s) | total (s) | per epoch incl. one-off (s) "
          "| final test acc | Graft faster by |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    n_epochs = sum(full.values())
    for name, r in rows:
        med = {p["name"]: p["median_epoch_seconds"] for p in r["phases"]}
        acc = f"{100 * r['final_acc']:.2f}%" if r["final_acc"] is not None else "not run to the end"
        ratio = f"{r['total_seconds'] / graft['total_seconds']:.1f}x" if r is not graft else "-"
        total = f"{r['total_seconds']:.1f}" + ("" if r["complete"] else " (est.)")
        print(f"| {name} | {epochs_text(r)} | {r['oneoff_seconds']:.1f} | {med.get('probe', 0):.2f} | "
              f"{med.get('top', 0):.2f} | {total} | {r['total_seconds'] / n_epochs:.2f} | {acc} | {ratio} |")
    print()
    print("Epoch times are medians per phase (training + evaluation of the test set). One-off: Graft's "
          "FeatureCache build (resize and trunk over the training and test images); PyTorch's resize of all "
          "images, and for caching by hand its trunk pass. Total: one-off + all epochs "
          "(+ Graft's final evaluation); loading files and weights is not timed on either side.")
    print()
    vs_plain = plain["total_seconds"] / graft["total_seconds"]
    vs_cached = cached["total_seconds"] / graft["total_seconds"]
    print(f"- Graft vs the plain PyTorch loop: {vs_plain:.1f}x faster"
          f"{' (plain total extrapolated)' if not plain['complete'] else ''}; "
          f"goal >= 5x: {'met' if vs_plain >= 5 else 'MISSED'}.")
    print(f"- Graft vs PyTorch with caching by hand: {vs_cached:.2f}x "
          f"(> 1: Graft faster); goal >= 1x: {'met' if vs_cached >= 1 else 'MISSED'}.")
    gap = 100 * (graft["final_acc"] - cached["final_acc"])
    print(f"- Accuracy: Graft {100 * graft['final_acc']:.2f}%, PyTorch (cached) {100 * cached['final_acc']:.2f}% "
          f"({gap:+.2f} points).", end="")
    if plain["complete"]:
        print(f" PyTorch (plain) {100 * plain['final_acc']:.2f}%.")
    else:
        # The plain loop computes what the cached one does; its measured epochs show it.
        pairs = []
        for pp, pc in zip(plain["phases"], cached["phases"]):
            k = pp["measured_epochs"]
            if k:
                pairs.append(f"{pp['name']} epoch {k}: plain {100 * pp['val_acc'][k - 1]:.2f}%, "
                             f"cached {100 * pc['val_acc'][k - 1]:.2f}%" if pp["name"] == "probe" else
                             f"{pp['name']} epoch {k}: plain {100 * pp['val_acc'][k - 1]:.2f}%")
        print(" The plain loop was stopped early (it computes the same function as the cached one: the "
              "frozen trunk runs in eval mode); " + "; ".join(pairs) + ".")


if __name__ == "__main__":
    main()
