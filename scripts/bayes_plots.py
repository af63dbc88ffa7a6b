#!/usr/bin/python3
"""bayes_plots.py - pictures of thermodynamic Bayesian inference (docs/bayes.md),
drawn from the CLI's --json and -o output (Debian's numpy + matplotlib, Agg):

  docs/img/bayes_prior_posterior.png  prior -> posterior: 2-D contours of the
      closed forms, the unit's prior samples (`tspu sample` with A = P, b = P m)
      and posterior samples (`tspu posterior -o`), the observations
  docs/img/bayes_ramp.png             W, Q and F along the ramp: the per-knot
      work and heat of many ramps (--trace), Jarzynski's estimate of F(lambda)
      and the closed form
  docs/img/bayes_dissipation.png      energy-time trade-off: dissipated work
      <W> - dF against the ramp duration (--ramp-steps sweep)

usage: scripts/bayes_plots.py [--tspu build/bin/tspu] [--device model] [--out docs/img]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EX = "examples"


def run(tspu, args):
    p = subprocess.run([tspu] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bayes_plots: %s failed: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def problem():
    S = np.loadtxt(f"{EX}/bayes_prior_cov.txt")
    m = np.loadtxt(f"{EX}/bayes_prior_mean.txt")
    L = np.loadtxt(f"{EX}/bayes_lik_prec.txt")
    Y = np.loadtxt(f"{EX}/bayes_data.txt")
    P = np.linalg.inv(S)
    return P, m, L, Y


def posterior_lambda(P, m, L, Y, lam):
    """closed form at likelihood weight lam: precision, mean, beta F (up to the lam = 0 constant)"""
    A = P + lam * len(Y) * L
    b = P @ m + lam * L @ Y.sum(0)
    c = lam * 0.5 * sum(y @ L @ y for y in Y)
    mu = np.linalg.solve(A, b)
    logZ = -0.5 * np.linalg.slogdet(A)[1] + 0.5 * b @ mu - c
    return A, mu, -logZ


def contour(ax, A, mu, color, label):
    C = np.linalg.inv(A)
    w, V = np.linalg.eigh(C)
    t = np.linspace(0, 2 * np.pi, 200)
    for k, r in enumerate((1, 2, 3)):
        e = mu[:, None] + V @ (r * np.sqrt(w)[:, None] * np.vstack([np.cos(t), np.sin(t)]))
        ax.plot(e[0], e[1], color=color, lw=1.2, label=label if k == 0 else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tspu", default="build/bin/tspu")
    ap.add_argument("--device", default="model")
    ap.add_argument("--out", default="docs/img")
    ap.add_argument("--seed", default="2026")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    d = ["-d", a.device, "--seed", a.seed]
    P, m, L, Y = problem()
    post = ["--prior-cov", f"{EX}/bayes_prior_cov.txt", "--prior-mean", f"{EX}/bayes_prior_mean.txt",
            "--lik-prec", f"{EX}/bayes_lik_prec.txt", "--data", f"{EX}/bayes_data.txt"]
    tmp = tempfile.mkdtemp()

    # ---- 1. prior -> posterior -----------------------------------------------
    np.savetxt(f"{tmp}/P.txt", P)
    np.savetxt(f"{tmp}/b.txt", P @ m)
    run(a.tspu, d + ["-o", f"{tmp}/prior.npy", "sample", f"{tmp}/P.txt", f"{tmp}/b.txt", "--samples", "3000",
                     "--thin", "20"])
    j = json.loads(run(a.tspu, d + ["--json", "-o", f"{tmp}/post.npy", "posterior"] + post + ["--samples", "3000"]))
    xp, xq = np.load(f"{tmp}/prior.npy"), np.load(f"{tmp}/post.npy")
    A1, mu1, _ = posterior_lambda(P, m, L, Y, 1.0)
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    ax.scatter(xp[:, 0], xp[:, 1], s=3, color="0.7", alpha=0.5, label="prior samples (unit, lambda = 0)")
    ax.scatter(xq[::2, 0], xq[::2, 1], s=3, color="tab:blue", alpha=0.5, label="posterior samples (unit, lambda = 1)")
    contour(ax, P, m, "0.3", "prior 1-2-3 sigma (closed form)")
    contour(ax, A1, mu1, "tab:red", "posterior 1-2-3 sigma (closed form)")
    ax.scatter(Y[:, 0], Y[:, 1], marker="x", color="k", s=25, label="observations y_i")
    ax.plot(*j["mean"], "o", ms=7, mfc="none", mec="tab:orange", mew=2, label="posterior mean (unit)")
    ax.set_xlabel("theta_1")
    ax.set_ylabel("theta_2")
    ax.set_title("prior -> posterior on the unit (%s): %d samples" % (j["device"], j["samples"]))
    ax.legend(fontsize=7, loc="lower left")
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    fig.savefig(f"{a.out}/bayes_prior_posterior.png", dpi=110)
    plt.close(fig)

    # ---- 2. W, Q, F along a ramp ------------------------------------------------
    knots = np.linspace(0, 1, 17)
    np.savetxt(f"{tmp}/knots.txt", knots)
    j = json.loads(run(a.tspu, d + ["--json", "posterior"] + post + [
        "--samples", "200", "--ramps", "400", "--trace", "--schedule", f"{tmp}/knots.txt", "--ramp-steps", "256"]))
    lam = np.array(j["trace"]["lambda"])
    Wt = np.array(j["trace"]["work"])
    Qt = np.array(j["trace"]["heat"])
    R = Wt.shape[0]
    F = np.array([posterior_lambda(P, m, L, Y, l)[2] for l in lam])
    F -= F[0]
    wmin = Wt.min(0)
    Fj = wmin - np.log(np.mean(np.exp(-(Wt - wmin)), 0))
    e = np.exp(-(Wt - wmin))
    Fj_se = np.std(e, 0, ddof=1) / np.sqrt(R) / np.mean(e, 0)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(lam, Wt.mean(0), "o-", color="tab:blue", ms=3, label="<W>  work (unit's counter)")
    ax.fill_between(lam, np.percentile(Wt, 10, 0), np.percentile(Wt, 90, 0), color="tab:blue", alpha=0.15,
                    label="W, 10-90 %% of %d ramps" % R)
    ax.plot(lam, Qt.mean(0), "s-", color="tab:green", ms=3, label="<Q> = <dU> - <W>  heat (host, first law)")
    ax.plot(lam, (Qt + Wt).mean(0), "-", color="tab:purple", lw=1, label="<dU>")
    ax.errorbar(lam, Fj, yerr=Fj_se, fmt="^", color="tab:red", ms=4, label="-ln<exp(-W)>  Jarzynski")
    ax.plot(lam, F, "k--", lw=1, label="dF(lambda) closed form")
    ax.set_xlabel("lambda (likelihood weight)")
    ax.set_ylabel("kT")
    ax.set_title("work, heat and free energy along a linear ramp of %d steps" % j["plan"]["ramp_steps"])
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{a.out}/bayes_ramp.png", dpi=110)
    plt.close(fig)

    # ---- 3. dissipated work vs ramp duration ------------------------------------------
    dF = posterior_lambda(P, m, L, Y, 1.0)[2] - posterior_lambda(P, m, L, Y, 0.0)[2]
    Ts, diss, dse, jerr, jse = [], [], [], [], []
    tau = None
    for T in (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096):
        j = json.loads(run(a.tspu, d + ["--json", "posterior"] + post + [
            "--samples", "200", "--ramps", "200", "--ramp-steps", str(T)]))
        Ts.append(T)
        diss.append(j["work_mean"] - dF)
        dse.append(j["work_stderr"])
        jerr.append(j["free_energy"]["jarzynski"] - dF)
        jse.append(j["free_energy"]["jarzynski_stderr"])
        tau = j["plan"]["dt"]
    Ts = np.array(Ts, float)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.errorbar(Ts, diss, yerr=dse, fmt="o-", color="tab:blue", label="dissipated work <W> - dF")
    ax.errorbar(Ts, np.abs(jerr), yerr=jse, fmt="^", color="tab:red", ms=4,
                label="|Jarzynski - dF| (estimate error, 200 ramps)")
    k = len(Ts) // 2
    ax.plot(Ts[k:], diss[k] * Ts[k] / Ts[k:], "k--", lw=1, label="~ 1/T (slow-ramp limit)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ramp duration T (steps of h = %.3g)" % tau)
    ax.set_ylabel("kT")
    ax.set_title("energy-time trade-off: dissipation against ramp time")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{a.out}/bayes_dissipation.png", dpi=110)
    plt.close(fig)
    for T, w, j_ in zip(Ts, diss, jerr):
        print("ramp %6d steps: dissipated %.4f kT, Jarzynski - dF %+.4f kT" % (T, w, j_))
    print("wrote %s/bayes_prior_posterior.png, bayes_ramp.png, bayes_dissipation.png " % a.out)


if __name__ == "__main__":
    main()
