#!/usr/bin/python3
"""crosscheck.py - the recurrent engine (core/sp_cell.c) against torch.nn.RNN/LSTM/GRU.

Usage (what `make crosscheck` runs, in the build folder):
  bench/dump_cell bench/crosscheck.txt
  /usr/bin/python3 bench/crosscheck.py bench/crosscheck.txt [--tol 1e-4] [-v]

bench/dump_cell writes, per case, the weights seqpipe used, the input, its
output y, the fixed random dy it back-propagated, and every gradient.  Here
the same weights go into torch (float64, so the reference carries no float32
rounding of its own), mapping sp_cell.h's layout:
  weight_ih_l{l}[_reverse] = Wxᵀ     weight_hh = Whᵀ
  rnn, lstm: bias_ih = b, bias_hh = 0 (seqpipe keeps one bias = b_ih + b_hh)
  gru:       bias_ih = bx, bias_hh = bh
  embed:     nn.Embedding weight = embed; ids straight into Wx: x = one_hot(ids)
torch runs forward, L = Σ y⊙dy, backward.  The masked cases go through
pack_padded_sequence (enforce_sorted=False), whose semantics (state stops at
each sequence's last real step; the reverse direction starts there from
zero; padded outputs are 0) are what sp_cell.h promises.

Error per quantity = max|seqpipe − torch| / max(max|torch|, 1e-3): relative to
the tensor's scale, so a 1e-4 tolerance means "float32 accurate" whatever the
magnitude.  One line per case (its worst quantity) and one per failing
quantity; exit status 1 if any case fails.
"""
import argparse
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def read_cases(path):
    cases, cur = [], None
    with open(path) as f:
        lines = iter(f)
        for line in lines:
            w = line.split()
            if not w:
                continue
            if w[0] == "case":
                keys = ("T", "B", "I", "H", "layers", "ND", "embed", "ids", "masked", "h0",
                        "threads", "reference")
                cur = dict(name=w[1], cell=w[2], t={}, **dict(zip(keys, map(int, w[3:15]))))
            elif w[0] == "tensor":
                n = int(w[2])
                vals = next(lines).split()
                if len(vals) != n:
                    raise ValueError(f"{cur['name']}: {w[1]} has {len(vals)} values, expected {n}")
                cur["t"][w[1]] = torch.tensor([float(v) for v in vals], dtype=torch.float64)
            elif w[0] == "end":
                cases.append(cur)
                cur = None
            else:
                raise ValueError(f"unexpected line: {line[:60]!r}")
    return cases


def rel_err(got, ref):
    got, ref = got.reshape(-1), ref.reshape(-1)
    scale = max(ref.abs().max().item() if ref.numel() else 0.0, 1e-3)
    return (got - ref).abs().max().item() / scale if ref.numel() else 0.0


def run_case(c):
    """Returns [(quantity, error)] for one case."""
    T, B, I, H, L, ND = c["T"], c["B"], c["I"], c["H"], c["layers"], c["ND"]
    t, cell = c["t"], c["cell"]
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    E = c["embed"]
    in0 = E if E else I
    bidir = ND == 2
    mod = {"rnn": lambda: nn.RNN(in0, H, L, nonlinearity="tanh", bidirectional=bidir),
           "lstm": lambda: nn.LSTM(in0, H, L, bidirectional=bidir),
           "gru": lambda: nn.GRU(in0, H, L, bidirectional=bidir)}[cell]().double()
    lens = t["len"].long()
    real = torch.arange(T).unsqueeze(1) < lens.unsqueeze(0)  # (T,B)

    with torch.no_grad():
        for l in range(L):
            for d in range(ND):
                sfx = f"l{l}" + ("_reverse" if d else "")
                inl = in0 if l == 0 else ND * H
                getattr(mod, "weight_ih_" + sfx).copy_(t[f"W:Wx:{l}:{d}"].view(inl, G * H).t())
                getattr(mod, "weight_hh_" + sfx).copy_(t[f"W:Wh:{l}:{d}"].view(H, G * H).t())
                if cell == "gru":
                    getattr(mod, "bias_ih_" + sfx).copy_(t[f"W:bx:{l}:{d}"])
                    getattr(mod, "bias_hh_" + sfx).copy_(t[f"W:bh:{l}:{d}"])
                else:
                    getattr(mod, "bias_ih_" + sfx).copy_(t[f"W:b:{l}:{d}"])
                    getattr(mod, "bias_hh_" + sfx).zero_()

    emb = None
    if c["ids"]:
        ids = t["ids"].long().view(T, B).where(real, torch.zeros((), dtype=torch.long))
        if E:
            emb = nn.Embedding(I, E).double()
            with torch.no_grad():
                emb.weight.copy_(t["W:embed:0:0"].view(I, E))
            x = emb(ids)
        else:
            x = nn.functional.one_hot(ids, I).double()
    else:
        x = t["x"].view(T, B, I).clone().requires_grad_(True)

    hx = None
    if c["h0"]:
        h0 = t["h0"].view(L * ND, B, H).clone().requires_grad_(True)
        if cell == "lstm":
            c0 = t["c0"].view(L * ND, B, H).clone().requires_grad_(True)
            hx = (h0, c0)
        else:
            hx = h0

    if c["masked"]:
        packed = pack_padded_sequence(x, lens, enforce_sorted=False)
        yp, _ = mod(packed, hx)
        y, _ = pad_packed_sequence(yp, total_length=T)
    else:
        y, _ = mod(x, hx)
    dy = t["dy"].view(T, B, ND * H)
    (y * dy).sum().backward()

    errs = [("y", rel_err(t["y"], y.detach()))]
    if not c["ids"]:
        errs.append(("dx", rel_err(t["dx"], x.grad)))
    elif E:
        errs.append(("dembed", rel_err(t["G:embed:0:0"], emb.weight.grad)))
    if c["h0"]:
        errs.append(("dh0", rel_err(t["dh0"], h0.grad)))
        if cell == "lstm":
            errs.append(("dc0", rel_err(t["dc0"], c0.grad)))
    for l in range(L):
        for d in range(ND):
            sfx = f"l{l}" + ("_reverse" if d else "")
            tag = f"[l{l}{'r' if d else ''}]"
            errs.append(("dWx" + tag, rel_err(t[f"G:Wx:{l}:{d}"],
                                              getattr(mod, "weight_ih_" + sfx).grad.t())))
            errs.append(("dWh" + tag, rel_err(t[f"G:Wh:{l}:{d}"],
                                              getattr(mod, "weight_hh_" + sfx).grad.t())))
            if cell == "gru":
                errs.append(("dbx" + tag, rel_err(t[f"G:bx:{l}:{d}"],
                                                  getattr(mod, "bias_ih_" + sfx).grad)))
                errs.append(("dbh" + tag, rel_err(t[f"G:bh:{l}:{d}"],
                                                  getattr(mod, "bias_hh_" + sfx).grad)))
            else:
                # b = b_ih + b_hh, so dL/db = dL/db_ih (= dL/db_hh)
                errs.append(("db" + tag, rel_err(t[f"G:b:{l}:{d}"],
                                                 getattr(mod, "bias_ih_" + sfx).grad)))
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", help="output of bench/dump_cell")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every quantity")
    args = ap.parse_args()
    torch.manual_seed(0)
    cases = read_cases(args.dump)
    if not cases:
        print("crosscheck: no cases in " + args.dump)
        return 1
    nfail = 0
    print(f"torch {torch.__version__}; error = max|seqpipe - torch| / max|torch|, "
          f"tolerance {args.tol:g}")
    for c in cases:
        try:
            errs = run_case(c)
        except Exception as e:  # a missing tensor or a shape mismatch is a failure
            print(f"FAIL {c['name']:<32} error: {e}")
            nfail += 1
            continue
        worst = max(errs, key=lambda e: e[1])
        ok = worst[1] < args.tol
        nfail += not ok
        print(f"{'PASS' if ok else 'FAIL'} {c['name']:<32} max err {worst[1]:.2e} ({worst[0]})")
        for q, e in errs:
            if args.verbose or e >= args.tol:
                print(f"     {q:<12} {e:.2e}{'  <-- FAIL' if e >= args.tol else ''}")
    print(f"crosscheck: {len(cases) - nfail} of {len(cases)} cases pass")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
