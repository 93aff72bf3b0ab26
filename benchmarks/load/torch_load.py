"""Time and memory to load pretrained weights into a model in PyTorch: the
reference side of load_bench (benchmarks/load/load_bench.cpp). One case per
process; same cases, same clock rules:

  resnet50  torch.load(zip .pth, map_location="cpu") + torchvision resnet50().load_state_dict
  minilm    safetensors.torch.load_file(model.safetensors) + load_state_dict (what transformers'
            from_pretrained does for a safetensors file), strict, into a torch module with
            transformers' BertModel names and shapes built from config.json (below: the
            parameter tree only; transformers itself needs packages the benchmark venv
            lacks); the constant "embeddings.position_ids" of the file is dropped first, as
            transformers >= 4.31 does

--variant zerocopy is PyTorch's own way to skip the copy, the counterpart of Graft's
LoadOptions::share_memory (load_bench --variant share): resnet50 reads with
torch.load(mmap=True) (the zip records viewed in a map of the file) and minilm keeps
safetensors' tensors (already views of a private map of the file), and both hand them to
load_state_dict(assign=True), which makes them the module's parameters instead of copying.

The model is built (and put in eval mode) before the clock starts. The first load of the
process is reported alone, then the median and min of --repeats more.

  python torch_load.py --case resnet50 --file resnet50.pth
  python torch_load.py --case minilm --file model.safetensors --config config.json \
      --reference-python ~/.cache/graft/weights/minilm-reference-python

Output: '#' comment lines, then "<case> <first_s> <median_s> <min_s> <peak_rss_kib> <model_rss_kib>".
--make-resnet50 PATH writes torchvision resnet50 with random weights by torch.save (zip) and exits.
"""
import argparse
import resource
import statistics
import sys
import time


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bert_like(config_path):
    """nn.Modules named as transformers' BertModel (FORMATS.md 4c), for load_state_dict."""
    import json
    import torch.nn as nn
    with open(config_path) as f:
        c = json.load(f)
    h, inter = c["hidden_size"], c["intermediate_size"]

    def tree(**children):
        m = nn.Module()
        for k, v in children.items():
            m.add_module(k, v)
        return m

    def layer():
        return tree(attention=tree(self=tree(query=nn.Linear(h, h), key=nn.Linear(h, h), value=nn.Linear(h, h)),
                                   output=tree(dense=nn.Linear(h, h), LayerNorm=nn.LayerNorm(h))),
                    intermediate=tree(dense=nn.Linear(h, inter)),
                    output=tree(dense=nn.Linear(inter, h), LayerNorm=nn.LayerNorm(h)))

    return tree(embeddings=tree(word_embeddings=nn.Embedding(c["vocab_size"], h),
                                position_embeddings=nn.Embedding(c["max_position_embeddings"], h),
                                token_type_embeddings=nn.Embedding(c["type_vocab_size"], h),
                                LayerNorm=nn.LayerNorm(h)),
                encoder=tree(layer=nn.ModuleList([layer() for _ in range(c["num_hidden_layers"])])),
                pooler=tree(dense=nn.Linear(h, h)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=["resnet50", "minilm"])
    ap.add_argument("--file")
    ap.add_argument("--config")
    ap.add_argument("--reference-python", help="folder with the safetensors package (fetch_weights.sh's)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--variant", choices=["default", "zerocopy"], default="default")
    ap.add_argument("--make-resnet50", metavar="PATH")
    args = ap.parse_args()
    if args.reference_python:
        sys.path.insert(0, args.reference_python)

    import torch
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    if args.make_resnet50:
        import torchvision
        torch.manual_seed(0)
        torch.save(torchvision.models.resnet50().state_dict(), args.make_resnet50)
        return

    if args.case == "resnet50":
        import torchvision
        model = torchvision.models.resnet50()

        def read():
            if args.variant == "zerocopy":
                return torch.load(args.file, map_location="cpu", weights_only=True, mmap=True)
            return torch.load(args.file, map_location="cpu", weights_only=True)
    else:
        from safetensors.torch import load_file
        model = bert_like(args.config)

        def read():
            sd = load_file(args.file, device="cpu")
            sd.pop("embeddings.position_ids", None)
            return sd
    model.eval()
    model_rss = rss_kib()

    def load_once():
        t0 = time.perf_counter()
        sd = read()
        t1 = time.perf_counter()
        if args.variant == "zerocopy":
            model.load_state_dict(sd, strict=True, assign=True)
        else:
            model.load_state_dict(sd, strict=True)
        t2 = time.perf_counter()
        del sd
        return t1 - t0, t2 - t1

    with torch.no_grad():
        first = load_once()
        phases = [load_once() for _ in range(args.repeats)]
    totals = [r + l for r, l in phases]
    print(f"# {args.case} ({args.variant}): torch {torch.__version__}; first load read {first[0]:.6f} s + load_state_dict "
          f"{first[1]:.6f} s; median read {statistics.median(r for r, _ in phases):.6f} s + load_state_dict "
          f"{statistics.median(l for _, l in phases):.6f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{args.case} {sum(first):.6f} {statistics.median(totals):.6f} {min(totals):.6f} {peak} {model_rss}")


if __name__ == "__main__":
    main()
