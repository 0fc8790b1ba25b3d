#!/usr/bin/env python3
"""Writes train.tsv, dev.tsv and test.tsv from eng-fra.txt: the split of
sp_parallel_split_of() in core/sp_parallel.c (FNV-1a 64 of the English
sentence's UTF-8 bytes, modulo 100: 0-9 test, 10-19 dev, the rest train),
so that every French translation of one English sentence lands in the same
split.  Lines keep all three columns and their order.  tests/t_parallel.c
checks the files against the C function.  Run from this folder."""

def fnv1a64(data: bytes) -> int:
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

out = {name: open(name + ".tsv", "w", encoding="utf-8", newline="\n")
       for name in ("train", "dev", "test")}
with open("eng-fra.txt", encoding="utf-8", newline="\n") as f:
    for line in f:
        src = line.rstrip("\n").split("\t")[0]
        bucket = fnv1a64(src.encode("utf-8")) % 100
        name = "test" if bucket < 10 else "dev" if bucket < 20 else "train"
        out[name].write(line)
for f in out.values():
    f.close()
