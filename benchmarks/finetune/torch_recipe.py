"""The fine-tuning recipe of examples/transfer_fmnist.cpp written in PyTorch, for
benchmarks/finetune/run.sh (issue 7: Graft's cached fine-tune against PyTorch).

Recipe (the same as the Graft example's transfer::Finetuner):
  data   Fashion-MNIST (Debian's IDX files), 100 training images per class, all
         10,000 test images. 28x28 grey -> 96x96 (bilinear, antialias: torch's
         uint8 resize, rounded to uint8 as Graft's), copied into 3 channels,
         (x - 127/255) / (128/255) on [0, 1] pixels.
         The 1,000 training images are the ones Graft's io::few_shot(seed 0)
         picks: its Philox 4x32-10 randperm is re-implemented below
         (--picks torch draws 100 per class with torch.randperm instead).
  model  EfficientNet-Lite0 as tests/fixtures/make_zoo_fixtures.py defines it
         (the definition the zoo parity tests prove equal to Graft's), static
         SAME padding for 96x96, the ImageNet weights
         efficientnet-lite0-57934424.pth; a new 10-class _fc (torch's default
         Linear init, seed 0).
  probe  only _fc trains: 30 epochs, AdamW lr 3e-3, weight decay 0.01,
         cosine to 0 per step, batch 32.
  top    _blocks.15, _conv_head/_bn1 and _fc train: 10 epochs, AdamW with
         one group per stage, lr 1e-4, 3.16e-4, 1e-3 (geometric), cosine per step.
  Frozen parameters have requires_grad False and are in no optimizer group;
  BatchNorms whose parameters are frozen run in eval mode; dropout (0.2,
  before _fc) is active while training, as in Graft. Evaluation (batch 100) on
  all test images after every epoch (--eval-every).

Modes (--mode):
  plain         the usual loop: the whole model runs on the images at every
                step, and evaluation runs the whole model on the test images.
  cached        caching written by hand as the issue describes it: the stem and
                _blocks.0..14 (frozen in both phases) run once under
                torch.no_grad() over the training and test images; every epoch
                then trains and evaluates _blocks.15 .. _fc on those cached
                [N, 192, 3, 3] tensors.
  cached-phase  as cached, and a phase that trains only _fc (the probe) also
                runs the frozen _blocks.15 .. pooling once at its start, so its
                epochs train the classifier alone on [N, 1280] features. This is
                what Graft's Finetuner does (per-phase caching, commit 8ba5505).
The modes compute the same function (the trunk is in eval mode, so a sample's
features do not depend on its batch); only the time differs.

--eval-every N evaluates every N epochs and after each phase's last (0: only
after the last), to match the Graft example's setting.
--measure-epochs K runs only the first K epochs of each phase (the learning
rate schedule still spans the full phase; the last run epoch evaluates), so a
slow plain loop can be extrapolated: a phase's estimate is its one-off part +
median training time x epochs + median evaluation time x the evaluations the
full phase runs; the JSON says "measured_epochs". Times are wall-clock
(time.perf_counter). "oneoff" is the image resize (all modes) plus, when
caching, the trunk pass; cached-phase's probe features are timed inside the
probe phase. "total" runs from the first resize to the last evaluation, as
Graft's pretrained_seconds counts its caches and epochs. Loading the files and
the weights is not timed on either side.

Run: /work/torch2-venv/bin/python benchmarks/finetune/torch_recipe.py --mode cached --threads 2 --json out.json
"""
import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))
from make_zoo_fixtures import EfficientNetLite0  # noqa: E402  (the parity-tested definition)

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
WEIGHTS = os.path.expanduser("~/.cache/graft/weights/efficientnet-lite0-57934424.pth")
MEAN, STD = 127.0 / 255, 128.0 / 255


# ---- data ------------------------------------------------------------------------------------


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(folder, train):
    prefix = "train" if train else "t10k"
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise SystemExit(f"torch_recipe: no {stem}[.gz] in {folder}")
    return read_idx(find(f"{prefix}-images-idx3-ubyte")), read_idx(find(f"{prefix}-labels-idx1-ubyte"))


# Graft's Philox 4x32-10 (core/ops/random.cpp) and randperm: Fisher-Yates from the
# end, step k swaps i = n-1-k with j = (x * (i + 1)) >> 64, x the k-th 64-bit word
# (two 32-bit words, high first) of the blocks at counter 0, 1, ... for the key seed.
M0, M1, W0, W1, MASK = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85, 0xFFFFFFFF


def philox(seed, counter):
    c0, c1, c2, c3 = counter & MASK, counter >> 32, 0, 0
    k0, k1 = seed & MASK, (seed >> 32) & MASK
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0), p1 & MASK, ((p0 >> 32) ^ c3 ^ k1), p0 & MASK
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return c0, c1, c2, c3


def graft_randperm(n, seed):
    p = list(range(n))
    w = None
    for k in range(n - 1):
        if k % 2 == 0:
            w = philox(seed, k // 2)
        x = (w[(k % 2) * 2] << 32) | w[(k % 2) * 2 + 1]
        i = n - 1 - k
        j = (x * (i + 1)) >> 64
        p[i], p[j] = p[j], p[i]
    return p


def few_shot(labels, k, seed, picks):
    """Indices of k items per class, sorted (io::few_shot with picks="graft")."""
    chosen = []
    gen = torch.Generator().manual_seed(seed)
    for c in range(int(labels.max()) + 1):
        items = np.flatnonzero(labels == c)
        if picks == "graft":
            order = graft_randperm(len(items), (seed ^ (c * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF)
        else:
            order = torch.randperm(len(items), generator=gen).tolist()
        chosen.extend(int(items[j]) for j in order[:k])
    return sorted(chosen)


def resize(images, size):
    """uint8 [N, 28, 28] -> uint8 [N, 1, size, size], bilinear with antialias."""
    x = torch.from_numpy(np.array(images, copy=True)).unsqueeze(1)  # writable: torch warns otherwise
    out = []
    for chunk in x.split(1000):
        out.append(F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False))
    return torch.cat(out)


def normalise(batch_u8):
    """uint8 [B, 1, S, S] -> float32 [B, 3, S, S] as the weights expect."""
    x = (batch_u8.float() / 255 - MEAN) / STD
    return x.expand(-1, 3, -1, -1)


# ---- model -----------------------------------------------------------------------------------


def build_model(weights, image_size):
    model = EfficientNetLite0(num_classes=1000, image_size=image_size)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f"torch_recipe: {weights}: missing {missing}, unexpected {unexpected}")
    torch.manual_seed(0)
    model._fc = nn.Linear(1280, 10)
    return model


def trunk(model, x):
    """Stem and _blocks.0..14: frozen in every phase."""
    x = F.relu6(model._bn0(model._conv_stem(x)))
    for b in model._blocks[:15]:
        x = b(x)
    return x


def top(model, x):
    """_blocks.15, the head conv, pooling, dropout and _fc, on trunk features."""
    x = model._blocks[15](x)
    x = F.relu6(model._bn1(model._conv_head(x)))
    return model._fc(model._dropout(model._avg_pooling(x).flatten(1)))


PHASES = [  # name, trainable stages (module lists), learning rates, epochs option
    ("probe", [["_fc"]], [3e-3]),
    ("top", [["_blocks.15"], ["_conv_head", "_bn1"], ["_fc"]], [1e-4, math.sqrt(1e-4 * 1e-3), 1e-3]),
]


def set_phase(model, stages):
    for p in model.parameters():
        p.requires_grad_(False)
    groups = []
    for modules in stages:
        params = []
        for name in modules:
            for p in model.get_submodule(name).parameters():
                p.requires_grad_(True)
                params.append(p)
        groups.append(params)
    return groups


def train_mode(model):
    """model.train(), with the BatchNorms of frozen parts in eval (Graft's follow-freeze)."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not m.weight.requires_grad:
            m.eval()


# ---- run -------------------------------------------------------------------------------------


def head_features(model, x):
    """_blocks.15 .. pooling on trunk features: what the probe phase keeps frozen."""
    x = model._blocks[15](x)
    return model._avg_pooling(F.relu6(model._bn1(model._conv_head(x)))).flatten(1)


def classifier(model, x):
    return model._fc(model._dropout(x))


def batched_no_grad(fn, x, batch):
    with torch.no_grad():
        return torch.cat([fn(b) for b in x.split(batch)])


def evaluated(epoch, epochs, every):
    return (every > 0 and epoch % every == 0) or epoch == epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["plain", "cached", "cached-phase"], required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shots", type=int, default=100)
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--probe-epochs", type=int, default=30)
    ap.add_argument("--top-epochs", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=1,
                    help="evaluate every N epochs and after each phase's last (0: only after the last)")
    ap.add_argument("--measure-epochs", type=int, default=0, help="> 0: run only the first K epochs of each phase")
    ap.add_argument("--max-eval", type=int, default=0, help="> 0: evaluate on the first N test images")
    ap.add_argument("--picks", choices=["graft", "torch"], default="graft")
    ap.add_argument("--data", default=FMNIST_DIR)
    ap.add_argument("--weights", default=WEIGHTS)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--eval-batch-size", type=int, default=100)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    train_x, train_y = load_split(args.data, True)
    test_x, test_y = load_split(args.data, False)
    idx = few_shot(train_y, args.shots, 0, args.picks)
    train_x, train_y = train_x[idx], torch.from_numpy(train_y[idx].astype(np.int64))
    if args.max_eval > 0:
        test_x, test_y = test_x[:args.max_eval], test_y[:args.max_eval]
    test_y = torch.from_numpy(test_y.astype(np.int64))
    model = build_model(args.weights, args.image_size)
    n_train, n_test = len(train_y), len(test_y)
    print(f"torch {torch.__version__}, {args.threads} thread(s), mode {args.mode}: {n_train} train "
          f"({args.shots}/class, {args.picks} picks), {n_test} test, {args.image_size}x{args.image_size}", flush=True)

    t_run = time.perf_counter()
    train_u8, test_u8 = resize(train_x, args.image_size), resize(test_x, args.image_size)
    if args.mode == "plain":
        train_in, test_in = train_u8, test_u8
    else:
        model.eval()
        train_in = batched_no_grad(lambda b: trunk(model, normalise(b)), train_u8, args.eval_batch_size)
        test_in = batched_no_grad(lambda b: trunk(model, normalise(b)), test_u8, args.eval_batch_size)
    oneoff = time.perf_counter() - t_run

    shuffle = torch.Generator().manual_seed(0)
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    epochs_of = {"probe": args.probe_epochs, "top": args.top_epochs}
    phases, acc, loss_eval = [], float("nan"), float("nan")
    for name, stages, lrs in PHASES:
        epochs = epochs_of[name]
        t_phase = time.perf_counter()
        groups = set_phase(model, stages)
        # What one step runs on: images (plain), trunk features (cached), or in
        # cached-phase mode for a phase that trains only _fc, the pooled features of
        # the frozen _blocks.15 .. head, computed once at the phase's start.
        tr, te = train_in, test_in
        if args.mode == "plain":
            forward = lambda x: model(normalise(x))
        elif args.mode == "cached-phase" and stages == [["_fc"]]:
            model.eval()
            tr = batched_no_grad(lambda b: head_features(model, b), train_in, args.eval_batch_size)
            te = batched_no_grad(lambda b: head_features(model, b), test_in, args.eval_batch_size)
            forward = lambda x: classifier(model, x)
        else:
            forward = lambda x: top(model, x)
        phase_oneoff = time.perf_counter() - t_phase
        opt = torch.optim.AdamW([{"params": g, "lr": lr} for g, lr in zip(groups, lrs)], weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * steps_per_epoch))
        run_epochs = min(epochs, args.measure_epochs) if args.measure_epochs > 0 else epochs
        record = {"name": name, "epochs": epochs, "measured_epochs": run_epochs, "lrs": lrs,
                  "phase_oneoff_seconds": phase_oneoff, "epoch_seconds": [], "train_seconds": [],
                  "eval_seconds": [], "val_acc": [], "train_loss": []}
        for epoch in range(1, run_epochs + 1):
            t0 = time.perf_counter()
            train_mode(model)
            loss_sum = 0.0
            for b in torch.randperm(n_train, generator=shuffle).split(args.batch_size):
                loss = F.cross_entropy(forward(tr[b]), train_y[b])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item() * len(b)
            t1 = time.perf_counter()
            # A measured (shortened) phase evaluates after its last run epoch, so that
            # an evaluation is timed.
            if evaluated(epoch, run_epochs, args.eval_every):
                model.eval()
                correct, loss_eval = 0, 0.0
                with torch.no_grad():
                    for s in range(0, n_test, args.eval_batch_size):
                        logits = forward(te[s:s + args.eval_batch_size])
                        target = test_y[s:s + args.eval_batch_size]
                        loss_eval += F.cross_entropy(logits, target, reduction="sum").item()
                        correct += int((logits.argmax(1) == target).sum())
                acc, loss_eval = correct / n_test, loss_eval / n_test
                record["eval_seconds"].append(time.perf_counter() - t1)
                evaluation = f", test loss {loss_eval:.4f}, test acc {100 * acc:.2f}%"
            else:
                evaluation = ""
            seconds = time.perf_counter() - t0
            record["train_seconds"].append(t1 - t0)
            record["epoch_seconds"].append(seconds)
            record["val_acc"].append(acc if evaluation else None)
            record["train_loss"].append(loss_sum / n_train)
            print(f"{name} epoch {epoch}/{epochs}: train loss {loss_sum / n_train:.4f}{evaluation}, {seconds:.2f}s",
                  flush=True)
        record["median_epoch_seconds"] = statistics.median(record["epoch_seconds"]) if run_epochs else 0
        # The whole phase: its one-off part, every epoch's training, and the
        # evaluations the full phase would run.
        n_evals = sum(evaluated(e, epochs, args.eval_every) for e in range(1, epochs + 1))
        record["estimated_seconds"] = phase_oneoff + (
            statistics.median(record["train_seconds"]) * epochs +
            statistics.median(record["eval_seconds"]) * n_evals if run_epochs else 0)
        record["seconds"] = time.perf_counter() - t_phase
        phases.append(record)
    total = time.perf_counter() - t_run
    complete = all(p["measured_epochs"] == p["epochs"] for p in phases)
    estimate = oneoff + sum(p["estimated_seconds"] for p in phases)
    result = {"impl": "torch", "mode": args.mode, "torch_version": torch.__version__, "threads": args.threads,
              "picks": args.picks, "eval_every": args.eval_every, "train_images": n_train, "eval_images": n_test,
              "oneoff_seconds": oneoff, "total_seconds": total if complete else estimate, "measured_seconds": total,
              "complete": complete, "final_acc": acc if complete else None, "last_acc": acc,
              "final_loss": loss_eval, "phases": phases}
    print(f"{args.mode}: one-off {oneoff:.2f}s, total {result['total_seconds']:.1f}s"
          f"{'' if complete else ' (extrapolated)'}, {'final' if complete else 'last'} test acc {100 * acc:.2f}%", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
