#!/usr/bin/env python3
"""Generates io/text/unicode_tables.inc: the Unicode data the BERT normalizer and
pre-tokenizer need (io/text/unicode.h), as compact range tables.

    python3 tools/gen_unicode_tables.py io/text/unicode_tables.inc
    python3 tools/gen_unicode_tables.py --verify-hf     # compare with `tokenizers`

Which Unicode version. Hugging Face's Rust `tokenizers` (the reference we match)
mixes three sources, and so do we:
  * general categories (control = Cc/Cf/Co/Cs, punctuation = P*, non-spacing
    mark = Mn) come from the `unicode_categories` 0.1.1 crate: Unicode 8.0.
    Characters assigned after 8.0 count as unassigned there (so never control,
    punctuation or Mn). We take Python's unicodedata categories for characters
    present in Unicode 8.0 (the repertoire from Perl's Unicode::UCD, "In=8.0"),
    plus CATEGORY_8_0 below for the few whose category changed since 8.0;
  * canonical decompositions and combining classes come from
    `unicode-normalization-alignments`: Unicode 9.0 (marks added in 9.0 are
    reordered by tokenizers' NFD, later ones are not). We take Python's data
    for characters present in 9.0 ("In=9.0"); the only decomposable character
    added since, U+11938 (13.0), is indeed not decomposed by tokenizers;
  * lower-casing and White_Space come from Rust's std (Unicode 16 in
    tokenizers 0.23). We use Python's str.lower() per character (full
    mappings, so U+0130 -> "i\u0307", like Rust's char::to_lowercase) and
    Perl's White_Space list (unchanged since Unicode 6.3). The case pairs new
    in Unicode 15/16 are missing when Python is older; none of those
    characters is in any BERT vocabulary, so token ids agree either way.
--verify-hf runs every code point through tokenizers' BertNormalizer and
BertPreTokenizer and reports each disagreement with these tables.
"""
import argparse
import bisect
import subprocess
import sys
import unicodedata as ud

MAX_CP = 0x110000
SURROGATES = range(0xD800, 0xE000)

# General category in Unicode 8.0 where it differs from the Python in use
# (each checked by --verify-hf against tokenizers' unicode_categories tables).
CATEGORY_8_0 = {
    0x166D: "Po",   # CANADIAN SYLLABICS CHI SIGN: Po -> So in Unicode 12.0
    0x1734: "Mn",   # HANUNOO SIGN PAMUDPOD: Mn -> Mc in Unicode 14.0
    0x1885: "Lo",   # MONGOLIAN LETTER ALI GALI BALUDA: Lo -> Mn in Unicode 9.0
    0x1886: "Lo",   # MONGOLIAN LETTER ALI GALI THREE BALUDA: Lo -> Mn in 9.0
    0xA9BD: "Mc",   # JAVANESE CONSONANT SIGN KERET: Mc -> Mn in Unicode 12.0
    0x111C9: "Po",  # SHARADA SANDHI MARK: Po -> Mn in Unicode 11.0
}

# BERT's "Chinese character" blocks as tokenizers' bert.rs writes them. Note
# 0x2B920, not BERT's 0x2B820: tokenizers leaves U+2B820..U+2B91F unspaced.
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3

# Flag bits; io/text/unicode.cpp names the same values.
WHITESPACE, CONTROL, PUNCT, MN, CJK, DECOMPOSES, COMBINING, LOWERS = (1 << i for i in range(8))


def perl_invlist(prop):
    """Code point inversion list of a property, from Perl's Unicode::UCD."""
    out = subprocess.run(["perl", "-MUnicode::UCD=prop_invlist", "-e",
                          'print join(",", prop_invlist($ARGV[0]))', prop],
                         check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.strip().split(",")]


def make_membership(invlist):
    return lambda cp: bisect.bisect_right(invlist, cp) % 2 == 1


def category_8_0(cp, in_8_0):
    if cp in CATEGORY_8_0:
        return CATEGORY_8_0[cp]
    return ud.category(chr(cp)) if in_8_0(cp) else "Cn"


def is_ascii_punct(cp):
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126


def compute_flags(in_8_0, in_9_0, white_space):
    flags = [0] * MAX_CP
    for cp in range(MAX_CP):
        if cp in SURROGATES:
            continue
        ch, cat, f = chr(cp), category_8_0(cp, in_8_0), 0
        f |= WHITESPACE if white_space(cp) else 0
        f |= CONTROL if cat in ("Cc", "Cf", "Co", "Cs") and cp not in (9, 10, 13) else 0
        f |= PUNCT if cat.startswith("P") or is_ascii_punct(cp) else 0
        f |= MN if cat == "Mn" else 0
        f |= CJK if any(lo <= cp <= hi for lo, hi in CJK_RANGES) else 0
        decomposes = in_9_0(cp) and ud.normalize("NFD", ch) != ch
        f |= DECOMPOSES if decomposes else 0
        f |= COMBINING if in_9_0(cp) and ud.combining(ch) else 0
        f |= LOWERS if ch.lower() != ch else 0
        flags[cp] = f
    return flags


def flag_ranges(flags):
    """[(first, flags)]: each range runs to the next entry's first."""
    out = []
    for cp, f in enumerate(flags):
        if not out or out[-1][1] != f:
            out.append((cp, f))
    return out


def lower_tables():
    """Simple mappings as runs (first, last, delta, stride), plus multi-char ones."""
    pairs, special = [], []
    for cp in range(MAX_CP):
        if cp in SURROGATES:
            continue
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        if len(low) == 1:
            pairs.append((cp, ord(low) - cp))
        else:
            special.append((cp, [ord(c) for c in low]))
    runs = []
    for cp, delta in pairs:
        if runs:
            first, last, d, stride = runs[-1]
            step = cp - last
            if d == delta and (step == stride or (first == last and step in (1, 2))):
                runs[-1] = (first, cp, d, step)
                continue
        runs.append((cp, cp, delta, 1))
    return runs, special


def decompositions(in_9_0):
    """Full canonical decompositions (Hangul syllables are left to the algorithm)."""
    table, pool = [], []
    for cp in range(MAX_CP):
        if cp in SURROGATES or HANGUL_FIRST <= cp <= HANGUL_LAST or not in_9_0(cp):
            continue
        nfd = ud.normalize("NFD", chr(cp))
        if nfd != chr(cp):
            table.append((cp, len(pool), len(nfd)))
            pool.extend(ord(c) for c in nfd)
    return table, pool


def combining_ranges(in_9_0):
    out = []
    for cp in range(MAX_CP):
        if cp in SURROGATES or not in_9_0(cp):
            continue
        ccc = ud.combining(chr(cp))
        if not ccc:
            continue
        if out and out[-1][1] == cp - 1 and out[-1][2] == ccc:
            out[-1] = (out[-1][0], cp, ccc)
        else:
            out.append((cp, cp, ccc))
    return out


def rows(items, per_line, fmt):
    cells = [fmt(x) for x in items]
    return "\n".join("    " + " ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line))


def write_inc(path, flags, in_9_0, perl_version):
    franges = flag_ranges(flags)
    lruns, lspecial = lower_tables()
    dtable, dpool = decompositions(in_9_0)
    cranges = combining_ranges(in_9_0)
    assert all(n <= 4 for _, _, n in dtable) and len(dpool) < 65536
    assert len(lspecial) <= 4 and all(len(s) == 2 for _, s in lspecial)
    text = f"""// Regenerate: python3 tools/gen_unicode_tables.py io/text/unicode_tables.inc
// Generated; do not edit. Unicode data for the BERT normalizer (io/text/unicode.cpp).
// Sources: Python {sys.version.split()[0]} unicodedata {ud.unidata_version} (categories,
// decompositions, combining classes, lower-casing), restricted to the Unicode 8.0 and 9.0
// repertoires from Perl Unicode::UCD {perl_version} to match Hugging Face tokenizers;
// the reasons are in the generator's docstring.

// Flags of [first, next entry's first).
inline constexpr FlagRange kFlagRanges[] = {{
{rows(franges, 6, lambda r: f"{{0x{r[0]:X}, {r[1]}}},")}
}};

// Simple lower-case mappings: cp in [first, last] stepping by stride maps to cp + delta.
inline constexpr LowerRun kLowerRuns[] = {{
{rows(lruns, 3, lambda r: f"{{0x{r[0]:X}, 0x{r[1]:X}, {r[2]}, {r[3]}}},")}
}};

// Lower-case mappings longer than one code point.
inline constexpr LowerSpecial kLowerSpecial[] = {{
{rows(lspecial, 2, lambda r: f"{{0x{r[0]:X}, {{0x{r[1][0]:X}, 0x{r[1][1]:X}}}}},")}
}};

// Full canonical decompositions: kDecompositionPool[offset, offset + length).
inline constexpr Decomposition kDecompositions[] = {{
{rows(dtable, 4, lambda r: f"{{0x{r[0]:X}, {r[1]}, {r[2]}}},")}
}};

inline constexpr char32_t kDecompositionPool[] = {{
{rows(dpool, 10, lambda c: f"0x{c:X},")}
}};

// Canonical combining classes other than 0: [first, last] -> class.
inline constexpr CombiningRange kCombiningRanges[] = {{
{rows(cranges, 4, lambda r: f"{{0x{r[0]:X}, 0x{r[1]:X}, {r[2]}}},")}
}};
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{path}: {len(franges)} flag ranges, {len(lruns)} lower runs, {len(dtable)} "
          f"decompositions ({len(dpool)} code points), {len(cranges)} combining ranges")
    return flags


def model_nfd(s, flags, ccc):
    """Decompose per character, then stable-sort each run of non-zero classes."""
    out = [c for ch in s for c in (ud.normalize("NFD", ch) if flags[ord(ch)] & DECOMPOSES else ch)]
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and ccc.get(ord(out[j]), 0):
            j += 1
        out[i:j] = sorted(out[i:j], key=lambda c: ccc[ord(c)])
        i = j + 1
    return "".join(out)


def model_normalize(s, flags, ccc, strip, lower, clean=True, cjk=True):
    """What io/text/unicode.cpp computes, in Python, for --verify-hf."""
    out = []
    for ch in s:
        cp, f = ord(ch), flags[ord(ch)]
        if clean and (cp == 0 or cp == 0xFFFD or f & CONTROL):
            continue
        if clean and f & WHITESPACE:
            ch = " "
        out.append(f" {ch} " if cjk and f & CJK else ch)
    s = "".join(out)
    if strip:
        s = "".join(c for c in model_nfd(s, flags, ccc) if not flags[ord(c)] & MN)
    # Per character, as Rust's char::to_lowercase: no final-sigma rule.
    return "".join(c.lower() for c in s) if lower else s


def verify_hf(flags, cranges):
    from tokenizers import __version__, normalizers, pre_tokenizers
    ccc = {cp: k for lo, hi, k in cranges for cp in range(lo, hi + 1)}
    bad = 0
    checks = [("clean", dict(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                             lowercase=False), dict(strip=False, lower=False, cjk=False)),
              ("cjk", dict(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                           lowercase=False), dict(strip=False, lower=False, clean=False)),
              ("strip", dict(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                             lowercase=False), dict(strip=True, lower=False, clean=False, cjk=False)),
              ("lower", dict(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                             lowercase=True), dict(strip=False, lower=True, clean=False, cjk=False))]
    pre = pre_tokenizers.BertPreTokenizer()
    for name, hf_args, model_args in checks:
        norm = normalizers.BertNormalizer(**hf_args)
        diffs = [cp for cp in range(MAX_CP) if cp not in SURROGATES and
                 norm.normalize_str(chr(cp)) != model_normalize(chr(cp), flags, ccc, **model_args)]
        bad += len(diffs)
        print(f"{name}: {len(diffs)} code points differ", [hex(c) for c in diffs[:60]])
    # Canonical ordering: each mark with a class > 1, before U+0334 (class 1) and
    # before U+1D165 (class 216, kept by accent stripping since it is Mc).
    nfd = normalizers.NFD()
    marks = [cp for cp in range(MAX_CP) if cp not in SURROGATES and ud.combining(chr(cp)) > 1]
    diffs = [cp for cp in marks for s in ("a" + chr(cp) + "\u0334", "a" + chr(cp) + "\U0001D165")
             if nfd.normalize_str(s) != model_nfd(s, flags, ccc)]
    bad += len(diffs)
    print(f"reordering: {len(diffs)} of {len(marks)} marks differ", [hex(c) for c in diffs[:60]])
    diffs = []
    for cp in range(MAX_CP):
        if cp in SURROGATES:
            continue
        got = [t for t, _ in pre.pre_tokenize_str("a" + chr(cp) + "b")]
        f = flags[cp]
        want = ["a", "b"] if f & WHITESPACE else ["a", chr(cp), "b"] if f & PUNCT else ["a" + chr(cp) + "b"]
        if got != want:
            diffs.append(cp)
    bad += len(diffs)
    print(f"pre-tokenizer: {len(diffs)} code points differ", [hex(c) for c in diffs[:60]])
    print(f"tokenizers {__version__}: {bad} disagreements in all")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", nargs="?", help="the .inc file to write")
    ap.add_argument("--verify-hf", action="store_true", help="compare every code point with tokenizers")
    args = ap.parse_args()
    in_8_0 = make_membership(perl_invlist("In=8.0"))
    in_9_0 = make_membership(perl_invlist("In=9.0"))
    white_space = make_membership(perl_invlist("White_Space"))
    perl_version = subprocess.run(["perl", "-MUnicode::UCD", "-e", "print Unicode::UCD::UnicodeVersion()"],
                                  check=True, capture_output=True, text=True).stdout
    flags = compute_flags(in_8_0, in_9_0, white_space)
    if args.output:
        write_inc(args.output, flags, in_9_0, perl_version)
    if args.verify_hf:
        verify_hf(flags, combining_ranges(in_9_0))


if __name__ == "__main__":
    main()
