#!/usr/bin/env python3
"""make demo: solve, inv, logdet and a Bayesian posterior of an example on the default device (the
Verilated RTL, "sim"), each answer beside its error bar and the exact LAPACK
answer (numpy.linalg).  Usage: demo.py TSPU_BINARY EXAMPLE_A EXAMPLE_B"""
import json
import subprocess
import sys

import numpy as np


def run(tspu, *args):
    cmd = [tspu, "--seed", "2026", "--json", *args]
    print("$ " + " ".join(cmd[0:1] + list(args)), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def table(name, est, se, ref):
    est, se, ref = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (est, se, ref))
    print(f"  {name:<10} {'estimate':>11} {'stderr':>9} {'exact':>11} {'z':>6}")
    for k, (e, s, r) in enumerate(zip(est, se, ref)):
        print(f"  [{k:2d}]       {e:11.5f} {s:9.5f} {r:11.5f} {(e - r) / s:6.2f}")


def footer(res):
    f = res["flags"]
    print(f"  device {res['device']}: {res['samples']} samples, {res['steps']} steps, "
          f"{res['device_seconds'] * 1e3:.2f} ms emulated device time, "
          f"{res['wall_seconds']:.1f} s wall; saturated={f['saturated']} "
          f"fifo_overflow={f['fifo_overflow']}\n")


def main():
    tspu, fa, fb = sys.argv[1:4]
    A, b = np.loadtxt(fa, ndmin=2), np.loadtxt(fb)
    print(f"tspu demo: A ({A.shape[0]}x{A.shape[1]}) from {fa}, b from {fb}\n")
    r = run(tspu, "solve", fa, fb)
    table("x=A^-1 b", r["estimate"], r["stderr"], np.linalg.solve(A, b))
    footer(r)
    r = run(tspu, "inv", fa)
    iu = np.triu_indices(A.shape[0])
    est, se = np.asarray(r["estimate"]), np.asarray(r["stderr"])
    table("A^-1 (upper)", est[iu], se[iu], np.linalg.inv(A)[iu])
    footer(r)
    r = run(tspu, "logdet", fa)
    table("log det A", r["estimate"], r["stderr"], np.linalg.slogdet(A)[1])
    footer(r)
    posterior(tspu)


def posterior(tspu):
    """Bayesian inference (docs/bayes.md): Gaussian prior x Gaussian likelihood of
    examples/bayes_*.txt; the default device when its gateware has the
    data-driven drift, else the bit-exact model with a note"""
    ex = "examples/bayes_"
    args = ["posterior", "--prior-cov", ex + "prior_cov.txt", "--prior-mean", ex + "prior_mean.txt",
            "--lik-prec", ex + "lik_prec.txt", "--data", ex + "data.txt", "--reverse"]
    S, m0 = np.loadtxt(ex + "prior_cov.txt"), np.loadtxt(ex + "prior_mean.txt")
    L, Y = np.loadtxt(ex + "lik_prec.txt"), np.loadtxt(ex + "data.txt")
    print(f"tspu demo: posterior of theta (2-D) from {len(Y)} observations y_i ~ N(theta, L^-1), prior N(m, S)\n")
    probe = subprocess.run([tspu, "--seed", "2026", *args, "--samples", "100", "--ramps", "1"],
                           capture_output=True, text=True)
    dev = []
    if probe.returncode != 0:
        print("  note: " + probe.stderr.strip().removeprefix("tspu: ") +
              "; running this step on the bit-exact C model (-d model)")
        dev = ["-d", "model"]
    r = run(tspu, *dev, *args)
    P = np.linalg.inv(S)
    A = P + len(Y) * L
    C = np.linalg.inv(A)
    mu = C @ (P @ m0 + L @ Y.sum(0))
    iu = np.triu_indices(2)
    table("mean", r["mean"], r["mean_stderr"], mu)
    table("cov (upper)", np.asarray(r["cov"])[iu], np.asarray(r["cov_stderr"])[iu], C[iu])
    c = 0.5 * sum(y @ L @ y for y in Y)
    dF = 0.5 * np.linalg.slogdet(A)[1] - 0.5 * np.linalg.slogdet(P)[1] - 0.5 * (A @ mu) @ mu \
        + 0.5 * (P @ m0) @ m0 + c
    fe = r["free_energy"]
    print(f"  work <W> = {r['work_mean']:.3f} +- {r['work_stderr']:.3f} kT over {len(r['work'])} ramps, "
          f"heat <Q> = {r['heat_mean']:.3f} +- {r['heat_stderr']:.3f} kT")
    table("dF (BAR)", fe["bar"], fe["bar_stderr"], dF)
    footer(r)


if __name__ == "__main__":
    main()
