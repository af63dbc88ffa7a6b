#!/usr/bin/env python3
# fpga_bench.py - the fpga section of `make bench` (bench/fpga_bench.sh):
# from bench/results/fpga.json (resources, Fmax, clock per build, written by
# fpga/build*.sh) and bench/results/rtl.json (cycles per step of the core),
# the projected device throughput of every build and the emulated relaxation
# time of reference problems beside the analog 8-cell unit's RC; adds the
# figures to fpga.json and rewrites the fpga section of docs/benchmarks.md.
import datetime, json, os, sys
import numpy as np

root = sys.argv[1] if len(sys.argv) > 1 else "."
fj, rj, doc = f"{root}/bench/results/fpga.json", f"{root}/bench/results/rtl.json", f"{root}/docs/benchmarks.md"
fpga = json.load(open(fj))
try:
    rj_all = json.load(open(rj))
    rtl = {(r["n"], r["p"]): r["cycles_per_step"] for r in rj_all["rows"]}
    # the iCEBreaker runs the small core (deep pipeline): its own measurement
    rtl_small = {(r["n"], r["p"]): r["cycles_per_step"] for r in rj_all.get("small_rows", [])}
except (OSError, ValueError, KeyError):
    rtl, rtl_small = {}, {}

RC = 1e-6  # the analog 8-cell unit's time constant, s


def cps(n, p, board):
    """cycles per step: measured (rtl.json) or the core's steady figure
    (ceil(N^2/P) + 3; the iCEBreaker's small core with its deep pipeline + 8)"""
    if board == "icebreaker":
        return rtl_small.get((n, p), (n * n + p - 1) // p + 8), (n, p) in rtl_small
    return rtl.get((n, p), (n * n + p - 1) // p + 3), (n, p) in rtl


# reference problems: the CLI's default step dt = 0.25 / lambda_max (tspu
# sample, EM/LM), so the slowest mode relaxes with e-folding time
# 1 / (dt lambda_min) = 4 kappa steps
A4 = np.loadtxt(f"{root}/examples/A4.txt")
ev = np.linalg.eigvalsh(A4)
refs = [("examples/A4.txt (N = 4)", float(ev[-1] / ev[0])), ("kappa = 10 (N = 8)", 10.0),
        ("kappa = 100 (N = 8)", 100.0)]
relax = []
for name, kappa in refs:
    steps = 4.0 * kappa
    for b in fpga["builds"]:
        c, measured = cps(b["n"], b["p"], b["board"])
        t = steps * c / (b["clock_mhz"] * 1e6)
        relax.append({"problem": name, "kappa": round(kappa, 3), "tau_steps": round(steps, 2),
                      "board": b["board"], "n": b["n"], "p": b["p"], "clock_mhz": b["clock_mhz"],
                      "tau_us": round(t * 1e6, 3), "tau_over_rc": round(t / RC, 2),
                      "tau_over_kappa_rc": round(t / (kappa * RC), 2)})
for b in fpga["builds"]:
    c, measured = cps(b["n"], b["p"], b["board"])
    b["cycles_per_step"] = c
    b["cycles_measured"] = measured
    b["steps_per_s"] = round(b["clock_mhz"] * 1e6 / c)
    b["steps_per_s_at_fmax"] = round(b["fmax_mhz"] * 1e6 / c) if b.get("fmax_mhz") else None
fpga["relaxation"] = relax
fpga["relaxation_note"] = ("tau_steps = 1/(dt lambda_min) with dt = 0.25/lambda_max (tspu sample's default); "
                           "tau_us = tau_steps * cycles_per_step / clock; analog unit RC = 1 us, "
                           "its slowest mode ~ kappa RC when lambda_max RC is normalised to 1")
with open(fj, "w") as f:
    f.write('{"builds": [\n' + ",\n".join("  " + json.dumps(r) for r in fpga["builds"]) + "\n],\n")
    f.write(' "relaxation": [\n' + ",\n".join("  " + json.dumps(r) for r in relax) + "\n],\n")
    f.write(' "relaxation_note": ' + json.dumps(fpga["relaxation_note"]) + "}\n")

date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
yn = lambda v: "yes" if v else "**no**"
L = ["## FPGA: resources, clock and projected device throughput", "",
     f"From `bench/results/fpga.json` ({date}): every board build of `make bitstream` "
     "(yosys + nextpnr figures, fixed seed) with the clock its bitstream claims in CLOCK_HZ.  "
     "Projected steps/s = clock / cycles per step (cycles per step of the core from "
     "`bench/results/rtl.json`, measured by the lockstep harness: the iCEBreaker rows the small "
     "core with its deep pipeline; `*` = the steady formula ceil(N^2/P) + 3, + 8 for the small "
     "core, where no measurement exists).  A build that does not fit or "
     "misses its clock has no bitstream: its throughput is what it would be.", "",
     "| board | N | P | LCs / LUT4 | DSP | BRAM | Fmax (MHz) | clock (MHz) | fits | meets clock | cycles/step | steps/s at clock | steps/s at Fmax |",
     "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for b in fpga["builds"]:
    fm = f"{b['fmax_mhz']:.2f}" if b.get("fmax_mhz") else "-"
    sa = f"{b['steps_per_s_at_fmax'] / 1e6:.3f} M" if b.get("steps_per_s_at_fmax") else "-"
    L.append(f"| {b['board']} | {b['n']} | {b['p']} | {b['lcs']} | {b['dsps']} | {b['brams']} | {fm} | "
             f"{b['clock_mhz']} | {yn(b['fits'])} | {yn(b['meets_timing'])} | {b['cycles_per_step']}"
             f"{'' if b['cycles_measured'] else '*'} | {b['steps_per_s'] / 1e6:.3f} M | {sa} |")
L += ["", "**Emulated relaxation time** of the slowest mode: with `tspu sample`'s default step "
      "dt = 0.25/lambda_max, the slowest mode decays by 1/e in 1/(dt lambda_min) = 4 kappa steps; "
      "times the step time (cycles per step / clock) that is the device's relaxation time.  The analog "
      "8-cell unit relaxes with RC ~ 1 us per unit of normalised coupling: its slowest mode ~ kappa RC "
      "(lambda_max RC normalised to 1).  The last column is the emulator's slowdown against that.", "",
      "| problem | kappa | tau (steps) | board | N | clock (MHz) | tau emulated (us) | / RC | / (kappa RC) |",
      "|---|---|---|---|---|---|---|---|---|"]
for r in relax:
    L.append(f"| {r['problem']} | {r['kappa']:.2f} | {r['tau_steps']:.0f} | {r['board']} | {r['n']} | "
             f"{r['clock_mhz']} | {r['tau_us']:.2f} | {r['tau_over_rc']:.1f} | {r['tau_over_kappa_rc']:.1f} |")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_section import write_section
write_section("fpga", "\n".join(L) + "\n", doc=doc)
for b in fpga["builds"]:
    print(f"  {b['board']:10s} N={b['n']:<3d} {b['clock_mhz']:>3d} MHz  {b['cycles_per_step']:>3d} cyc/step"
          f"  {b['steps_per_s'] / 1e6:7.3f} Msteps/s  fits={b['fits']} meets={b['meets_timing']}")
