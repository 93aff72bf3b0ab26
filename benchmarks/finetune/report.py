"""The markdown table of benchmarks/finetune/run.sh, from the files its runs left in
--dir: graft.json and graft.log (examples/transfer_fmnist --json, and its stdout,
whose "  <phase> epoch i/n: ... (S s)" lines give the per-epoch times),
torch_cached.json, torch_cached-phase.json (optional) and torch_plain.json
(torch_recipe.py --json; a run cut short by --measure-epochs carries its own
extrapolated total). Ratios are "PyTorch total / Graft total": how many times
faster Graft's cached fine-tune is.
"""
import argparse
import json
import os
import re
import statistics
import time

EPOCH_LINE = re.compile(r"^\s+(\w+) epoch (\d+)/(\d+): train loss [-\d.naif]+"
                        r"(?:, eval loss [-\d.naif]+, eval acc ([\d.]+)%)? \(([\d.]+)s\)$")


def graft_run(folder, name):
    """A Graft run in torch_recipe.py's JSON shape."""
    with open(os.path.join(folder, name + ".json")) as f:
        j = json.load(f)
    phases = {}
    with open(os.path.join(folder, name + ".log")) as f:
        for line in f:
            m = EPOCH_LINE.match(line.rstrip("\n"))
            if m:
                p = phases.setdefault(m[1], {"name": m[1], "epochs": int(m[3]), "epoch_seconds": [], "val_acc": []})
                p["epoch_seconds"].append(float(m[5]))
                p["val_acc"].append(float(m[4]) / 100 if m[4] else None)
    for p in phases.values():
        p["measured_epochs"] = len(p["epoch_seconds"])
        p["median_epoch_seconds"] = statistics.median(p["epoch_seconds"])
    return {"oneoff_seconds": j.get("cache_seconds", 0), "total_seconds": j["pretrained_seconds"], "complete": True,
            "final_acc": j["pretrained_acc"], "phases": list(phases.values()), "eval_images": j["eval_images"],
            "train_images": j["train_images"]}


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
    cached_phase = load(a.dir, "torch_cached-phase")
    full = {p["name"]: p["epochs"] for p in cached["phases"]}
    graft = graft_run(a.dir, "graft")
    rows = [("Graft, frozen stages cached (examples/transfer_fmnist)", graft),
            (f"PyTorch {cached['torch_version']}, trunk cached by hand (stages 0..14)", cached)]
    if cached_phase:
        rows.append((f"PyTorch {cached['torch_version']}, cached by hand per phase as Graft", cached_phase))
    rows.append((f"PyTorch {plain['torch_version']}, plain loop", plain))

    print(f"### Fine-tuning EfficientNet-Lite0 on Fashion-MNIST: Graft vs PyTorch {cached['torch_version']}")
    print()
    print(f"Command: `{a.command}`" + (f", commit {a.commit}" if a.commit else "") +
          f", {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {a.cpu}, {cached['threads']} thread(s)" +
          (f", load average {a.load} at the end" if a.load else "") + ".")
    every = cached.get("eval_every", 1)
    when = ("after every epoch" if every == 1 else "after each phase's last epoch" if every == 0
            else f"every {every} epochs and after each phase")
    print(f"Data: {cached['train_images']} training images (the same 100 per class on both sides), "
          f"{cached['eval_images']} test images, evaluated {when} (as the Graft run did).")
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
    print("Epoch times are medians per phase (training, plus the test-set evaluation when that epoch had one). "
          "One-off: Graft's trunk FeatureCache build (resize and stages 0..14 over the training and test images); "
          "PyTorch's resize of all images, and when caching its trunk pass. Per-phase caches (the probe's pooled "
          "features) are inside the phase's time on both sides. Total: everything from the first resize to the "
          "last evaluation; loading files and weights is not timed on either side.")
    print()
    vs_plain = plain["total_seconds"] / graft["total_seconds"]
    best_cached = min([r for r in (cached, cached_phase) if r], key=lambda r: r["total_seconds"])
    vs_cached = best_cached["total_seconds"] / graft["total_seconds"]
    print(f"- Graft vs the plain PyTorch loop: {vs_plain:.1f}x faster"
          f"{' (plain total extrapolated)' if not plain['complete'] else ''}; "
          f"goal >= 5x: {'met' if vs_plain >= 5 else 'MISSED'}.")
    print(f"- Graft vs PyTorch with caching by hand (the faster of the hand-cached runs, "
          f"{best_cached['mode']}): {vs_cached:.2f}x (> 1: Graft faster); goal >= 1x: "
          f"{'met' if vs_cached >= 1 else 'MISSED'}.")
    gap = 100 * (graft["final_acc"] - cached["final_acc"])
    print(f"- Accuracy: Graft {100 * graft['final_acc']:.2f}%, PyTorch (cached) {100 * cached['final_acc']:.2f}% "
          f"({gap:+.2f} points)" + (f", PyTorch (cached per phase) {100 * cached_phase['final_acc']:.2f}%"
                                   if cached_phase else "") + ".", end="")
    if plain["complete"]:
        print(f" PyTorch (plain) {100 * plain['final_acc']:.2f}%.")
    else:
        # The plain loop computes what the cached one does; its measured epochs show it.
        pairs = []
        for pp, pc in zip(plain["phases"], cached["phases"]):
            k = pp["measured_epochs"]
            if k and pp["name"] == "probe" and pc["val_acc"][k - 1] is not None:
                pairs.append(f"probe epoch {k}: test acc plain {100 * pp['val_acc'][k - 1]:.2f}%, "
                             f"cached {100 * pc['val_acc'][k - 1]:.2f}%")
            elif k and pp["name"] == "probe":
                pairs.append(f"probe epoch {k}: train loss plain {pp['train_loss'][k - 1]:.4f}, "
                             f"cached {pc['train_loss'][k - 1]:.4f}")
        print(" The plain loop was stopped early (it computes the same function as the cached one: the "
              "frozen trunk runs in eval mode); " + "; ".join(pairs) + ".")


if __name__ == "__main__":
    main()
