#!/usr/bin/env python3
"""Hugging Face tokenizers' side of benchmarks/tokenizer (protocol in
tokenizer_bench.cpp): BertWordPieceTokenizer on the same vocab and texts.

    TOKENIZERS_PARALLELISM=false python3 tokenizer_hf.py VOCAB CASES 1   # one thread
    python3 tokenizer_hf.py VOCAB CASES 2                                  # rayon pool

Prints the same lines as tokenizer_bench. encode_batch runs over batches of 64
padded to their longest (enable_padding()) and returns Encoding objects, as a
Python user gets them; everything is truncated to 512 tokens.
"""
import json
import statistics
import sys
import time

from tokenizers import BertWordPieceTokenizer

MIN_TEXTS, RUNS, BATCH, MAX_LENGTH = 20000, 7, 64, 512


def corpora(path):
    all_texts, ascii_texts = [], []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            case = json.loads(line)
            for field in ("text", "pair"):
                if case.get(field) is not None:
                    all_texts.append(case[field])
                    if case[field].isascii():
                        ascii_texts.append(case[field])
    out = []
    for name, texts in (("all", all_texts), ("ascii", ascii_texts)):
        n = len(texts)
        texts = texts + [texts[i % n] for i in range(max(0, MIN_TEXTS - n))]
        out.append((name, texts))
    return out


def checksum(encodings):
    h = 1469598103934665603
    for e in encodings:
        for i in e.ids:
            h = ((h ^ i) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def measure(corpus, mode, threads, tokens, fn):
    fn()
    seconds = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    seconds.sort()
    print(f"{corpus} {mode} {threads} {tokens / seconds[RUNS // 2]:.0f} {tokens / seconds[0]:.0f}", flush=True)


def main():
    vocab, cases, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tok = BertWordPieceTokenizer(vocab)
    tok.enable_truncation(MAX_LENGTH)
    for name, texts in corpora(cases):
        batches = [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]
        tok.no_padding()
        reference = tok.encode_batch(texts)
        tokens = sum(len(e.ids) for e in reference)
        print(f"corpus {name} texts {len(texts)} tokens {tokens} checksum {checksum(reference):016x}", flush=True)
        if threads == 1:
            measure(name, "encode", 1, tokens, lambda: [tok.encode(t) for t in texts])
        tok.enable_padding()
        measure(name, "encode_batch", threads, tokens, lambda: [tok.encode_batch(b) for b in batches])


if __name__ == "__main__":
    main()
