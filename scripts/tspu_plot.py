#!/usr/bin/python3
"""Pictures of the tspu sampler, drawn from the CLI's raw samples.

Runs `tspu --seed S --json -o samples.npy sample A b ...` (one .npy row per
sample, real units) on an N-dimensional example (default examples/A4.txt,
b4.txt) and on a 2-D example (default examples/A2.txt, b2.txt), then writes
four PNGs into --out (default docs/img/):

  covariance.png    beta * running covariance converging to A^-1: heatmaps at
                    increasing sample counts beside the exact A^-1 (one colour
                    scale), and the relative Frobenius error vs samples
                    (log-log, with a 1/sqrt(n) guide)
  trajectory2d.png  the first --steps steps of the 2-D chain (thin 1) over the
                    1-, 2-, 3-sigma ellipses of N(A^-1 b, A^-1/beta)
  marginals.png     histogram of each coordinate with the exact Gaussian density
  autocorr.png      autocorrelation of each coordinate vs lag, with the exact
                    autocorrelation of the discrete chain (LM or EM) and of the
                    continuous OU process

Usage: tspu_plot.py [--tspu PATH] [--device DEV] [--seed S] [--samples N] [--steps K]
                    [--out DIR] [--A FILE --b FILE] [--A2 FILE --b2 FILE]
See docs/pictures.md.  Any failure (the CLI's included) is one line on stderr
and exit status 1.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROG = "tspu_plot"


class Fail(Exception):
    pass


def run_sample(args, A_path, b_path, samples, tmpdir, tag):
    """Run the CLI; return (samples array, JSON summary)."""
    import numpy as np
    out = os.path.join(tmpdir, tag + ".npy")
    cmd = [args.tspu, "-d", args.device, "--seed", str(args.seed), "--json",
           "--no-progress", "-o", out, "sample", A_path]
    if b_path:
        cmd.append(b_path)
    cmd += ["--samples", str(samples), "--thin", "1"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise Fail(f"cannot run {args.tspu}: {e.strerror}")
    if p.returncode != 0:
        msg = " ".join(p.stderr.split()) or f"exit status {p.returncode}"
        raise Fail(f"{os.path.basename(args.tspu)} sample {A_path} failed: {msg}")
    try:
        summary = json.loads(p.stdout)
        x = np.load(out)
    except (ValueError, OSError) as e:
        raise Fail(f"cannot read the CLI's output for {A_path}: {e}")
    if x.ndim != 2 or x.shape[0] != samples:
        raise Fail(f"unexpected sample array shape {x.shape} for {A_path}")
    if summary.get("flags", {}).get("saturated"):
        print(f"{PROG}: warning: {A_path}: the state saturated", file=sys.stderr)
    return x, summary


def load_problem(A_path, b_path, n):
    import numpy as np
    # the CLI has already accepted these files (text or .npy, '#' comments)
    def load(p):
        return np.load(p) if p.endswith(".npy") else np.loadtxt(p, comments="#", ndmin=2)
    A = np.asarray(load(A_path), dtype=float).reshape(n, n)
    b = np.asarray(load(b_path), dtype=float).ravel() if b_path else np.zeros(n)
    return A, b


def exact_acf(A, beta, h, integrator, lags):
    """Normalised autocorrelation of each coordinate at the given lags (steps).

    LM, x' = (I - hA)x + hb + sqrt(h/2beta)(xi + xi'): x_t carries the noise
    xi_t that also enters the next step, so for k >= 1
        C(k) = (I - hA)^(k-1) (I - hA/2) A^-1 / beta,   C(0) = A^-1 / beta.
    EM: C(k) = (I - hA)^k Sigma with Sigma = A^-1 (I - hA/2)^-1 / beta.
    Returns (discrete chain, continuous OU exp(-A k h) A^-1) diagonals / C(0)."""
    import numpy as np
    n = A.shape[0]
    lam, V = np.linalg.eigh(A)
    Ainv = (V / lam) @ V.T
    out_d, out_c = [], []
    for k in lags:
        if integrator == "em":
            C0 = (V / (lam * (1 - h * lam / 2))) @ V.T
            Ck = (V * (1 - h * lam) ** k / (lam * (1 - h * lam / 2))) @ V.T
        else:
            C0 = Ainv
            Ck = Ainv if k == 0 else \
                (V * (1 - h * lam) ** (k - 1) * (1 - h * lam / 2) / lam) @ V.T
        out_d.append(np.diag(Ck) / np.diag(C0))
        Cc = (V * np.exp(-lam * k * h) / lam) @ V.T
        out_c.append(np.diag(Cc) / np.diag(Ainv))
    return np.array(out_d), np.array(out_c)


def empirical_acf(x, maxlag):
    import numpy as np
    x = x - x.mean(axis=0)
    n = x.shape[0]
    m = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, m, axis=0)
    ac = np.fft.irfft(f * np.conj(f), m, axis=0)[: maxlag + 1] / n
    return ac / ac[0]


def fig_covariance(plt, x, A, beta, path):
    import numpy as np
    n_tot, N = x.shape
    Ainv = np.linalg.inv(A)
    checks = sorted({max(10, n_tot // 10 ** j) for j in (3, 2, 1, 0)})
    ests = [beta * np.cov(x[:n].T) for n in checks]
    vmax = max(np.abs(Ainv).max(), max(np.abs(e).max() for e in ests))
    grid = np.unique(np.geomspace(10, n_tot, 60).astype(int))
    err = np.array([np.linalg.norm(beta * np.cov(x[:n].T) - Ainv) for n in grid])
    err /= np.linalg.norm(Ainv)

    ncol = len(checks) + 1
    fig = plt.figure(figsize=(2.3 * ncol + 0.8, 6.4))
    gs = fig.add_gridspec(2, ncol + 1, height_ratios=[1, 1.15],
                          width_ratios=[1] * ncol + [0.06], hspace=0.35)
    for j in range(ncol):
        ax = fig.add_subplot(gs[0, j])
        M = ests[j] if j < len(checks) else Ainv
        im = ax.imshow(M, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        if j < len(checks):
            e = np.linalg.norm(M - Ainv) / np.linalg.norm(Ainv)
            ax.set_title(f"n = {checks[j]:,}\nrel. err {e:.3f}", fontsize=9)
        else:
            ax.set_title("exact A$^{-1}$\n(numpy.linalg.inv)", fontsize=9)
        ax.set_xticks(range(N))
        ax.set_yticks(range(N))
        ax.tick_params(labelsize=7)
    fig.colorbar(im, cax=fig.add_subplot(gs[0, ncol]))
    ax = fig.add_subplot(gs[1, :ncol])
    ax.loglog(grid, err, "-", color="C0", lw=1.5, label=r"$\|\beta\,\hat\Sigma_n - A^{-1}\|_F / \|A^{-1}\|_F$")
    half = grid >= grid[len(grid) // 2]
    c = np.median(err[half] * np.sqrt(grid[half]))
    ax.loglog(grid, c / np.sqrt(grid), "--", color="0.4", lw=1, label=r"$\propto 1/\sqrt{n}$")
    ax.plot(checks, [np.linalg.norm(e - Ainv) / np.linalg.norm(Ainv) for e in ests],
            "o", color="C3", ms=5, label="heatmaps above")
    ax.set_xlabel("samples n (thin 1)")
    ax.set_ylabel("relative Frobenius error")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    fig.suptitle(f"Covariance estimate $\\beta\\,\\hat\\Sigma_n$ converging to $A^{{-1}}$ "
                 f"(N = {N}, β = {beta:g})", fontsize=11)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def fig_trajectory(plt, x, A, b, beta, h, steps, path):
    import numpy as np
    mu = np.linalg.solve(A, b)
    S = np.linalg.inv(A) / beta
    lam, V = np.linalg.eigh(S)
    t = np.linspace(0, 2 * np.pi, 300)
    circle = np.stack([np.cos(t), np.sin(t)])
    d = x - mu
    m2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(S), d)
    fig, ax = plt.subplots(figsize=(6.4, 7.6))
    tr = x[:steps]
    ax.plot(tr[:, 0], tr[:, 1], "-", color="C0", lw=0.7, alpha=0.8,
            label=f"first {len(tr)} steps (thin 1)")
    ax.plot(tr[0, 0], tr[0, 1], "o", color="C2", ms=6, label="start (after burn-in)")
    ax.plot(tr[-1, 0], tr[-1, 1], "s", color="C3", ms=6, label=f"step {len(tr)}")
    for k, ls in zip((1, 2, 3), ("-", "--", ":")):
        e = mu[:, None] + k * (V * np.sqrt(lam)) @ circle
        inside = (m2 <= k * k).mean()
        exact = 1 - np.exp(-k * k / 2)
        ax.plot(e[0], e[1], ls, color="k", lw=1.3,
                label=f"{k}σ ellipse: {100 * inside:.1f}% of all {len(x):,} samples "
                      f"inside (exact {100 * exact:.1f}%)")
    ax.plot(*mu, "+", color="k", ms=12, mew=2, label=r"mean $A^{-1}b$")
    ax.set_aspect("equal")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.grid(True, alpha=0.3)
    r = 3.5 * np.sqrt(np.diag(S)).max()
    ax.set_xlim(mu[0] - r, mu[0] + r)
    ax.set_ylim(mu[1] - r, mu[1] + r)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=1)
    ax.set_title(r"2-D trajectory and the equilibrium ellipses of "
                 r"$N(A^{-1}b,\ A^{-1}/\beta)$" + f"\nh = {h:.4g}, β = {beta:g}",
                 fontsize=11)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def panel_grid(plt, N, w=3.2, h=2.6):
    ncol = min(N, 4)
    nrow = (N + ncol - 1) // ncol
    fig, axs = plt.subplots(nrow, ncol, figsize=(w * ncol, h * nrow + 0.6), squeeze=False)
    for ax in axs.flat[N:]:
        ax.set_visible(False)
    return fig, axs.flat


def fig_marginals(plt, x, A, b, beta, path):
    import numpy as np
    n, N = x.shape
    mu = np.linalg.solve(A, b)
    sd = np.sqrt(np.diag(np.linalg.inv(A)) / beta)
    fig, axs = panel_grid(plt, N)
    for i in range(N):
        ax = axs[i]
        ax.hist(x[:, i], bins=60, density=True, color="C0", alpha=0.6,
                label=f"{n:,} samples")
        g = np.linspace(mu[i] - 4.5 * sd[i], mu[i] + 4.5 * sd[i], 300)
        ax.plot(g, np.exp(-0.5 * ((g - mu[i]) / sd[i]) ** 2) / (sd[i] * np.sqrt(2 * np.pi)),
                "k-", lw=1.3, label="exact N(μ, σ²)")
        ax.set_title(f"$x_{i}$: μ = {mu[i]:.3f}, σ = {sd[i]:.3f}\n"
                     f"sample: {x[:, i].mean():.3f}, {x[:, i].std(ddof=1):.3f}", fontsize=9)
        ax.tick_params(labelsize=8)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(r"Marginals of x and the exact densities of $N(A^{-1}b,\ A^{-1}/\beta)$",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fig_autocorr(plt, x, A, beta, h, integrator, path):
    import numpy as np
    n, N = x.shape
    lam_min = np.linalg.eigvalsh(A).min()
    maxlag = int(min(n // 10, max(20, 5 / (h * lam_min))))
    lags = np.arange(maxlag + 1)
    emp = empirical_acf(x, maxlag)
    disc, cont = exact_acf(A, beta, h, integrator, lags)
    if integrator not in ("lm", "em"):
        disc = None  # underdamped: no first-order formula; OU curve only
    fig, axs = panel_grid(plt, N)
    for i in range(N):
        ax = axs[i]
        ax.axhline(0, color="0.6", lw=0.8)
        ax.plot(lags, emp[:, i], "-", color="C0", lw=1.5, label="from the samples")
        if disc is not None:
            ax.plot(lags, disc[:, i], "--", color="k", lw=1.2,
                    label=f"exact, discrete {integrator.upper()} chain")
        ax.plot(lags, cont[:, i], ":", color="C3", lw=1.2,
                label=r"continuous OU, $e^{-Akh}A^{-1}$")
        ax.set_title(f"$x_{i}$", fontsize=9)
        ax.set_xlabel(f"lag k (steps of h = {h:.4g})", fontsize=8)
        ax.tick_params(labelsize=8)
        if i == 0:
            ax.set_ylabel("autocorrelation", fontsize=8)
            ax.legend(fontsize=7)
    fig.suptitle(f"Autocorrelation of each coordinate vs lag ({n:,} samples, thin 1, "
                 f"integrator {integrator.upper()})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(
        prog=PROG, description="Draw the tspu pictures (covariance convergence, "
        "2-D trajectory, marginals, autocorrelation) from the CLI's samples.")
    ap.add_argument("--tspu", default=os.path.join(ROOT, "build", "bin", "tspu"),
                    help="the tspu binary (default: build/bin/tspu)")
    ap.add_argument("--device", "-d", default="model", help="device (default model)")
    ap.add_argument("--seed", type=int, default=2026, help="seed (default 2026)")
    ap.add_argument("--samples", type=int, default=200000,
                    help="samples per run, thin 1 (default 200000)")
    ap.add_argument("--steps", type=int, default=500,
                    help="trajectory steps drawn (default 500)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "img"),
                    help="output directory (default docs/img)")
    ap.add_argument("--A", default=os.path.join(ROOT, "examples", "A4.txt"),
                    help="N-D example matrix (default examples/A4.txt)")
    ap.add_argument("--b", default=os.path.join(ROOT, "examples", "b4.txt"),
                    help="N-D example bias (default examples/b4.txt)")
    ap.add_argument("--A2", default=os.path.join(ROOT, "examples", "A2.txt"),
                    help="2-D example matrix (default examples/A2.txt)")
    ap.add_argument("--b2", default=os.path.join(ROOT, "examples", "b2.txt"),
                    help="2-D example bias (default examples/b2.txt)")
    args = ap.parse_args()
    if args.samples < 100:
        raise Fail("--samples must be at least 100")
    if args.steps < 2:
        raise Fail("--steps must be at least 2")

    try:
        import numpy as np  # noqa: F401
        import matplotlib
    except ImportError as e:
        raise Fail(f"{e}; run scripts/deps.sh (python3-numpy, python3-matplotlib)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tempfile.TemporaryDirectory(prefix="tspu_plot.") as tmp:
        x, js = run_sample(args, args.A, args.b, args.samples, tmp, "nd")
        x2, js2 = run_sample(args, args.A2, args.b2, max(args.samples, args.steps), tmp, "2d")
    A, b = load_problem(args.A, args.b, x.shape[1])
    A2, b2 = load_problem(args.A2, args.b2, x2.shape[1])
    beta, h, integ = float(js["beta"]), float(js["dt"]), js.get("integrator", "lm")
    if x2.shape[1] != 2:
        raise Fail(f"the 2-D example {args.A2} has {x2.shape[1]} coordinates, not 2")

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise Fail(f"cannot create {args.out}: {e.strerror}")
    paths = {k: os.path.join(args.out, k + ".png")
             for k in ("covariance", "trajectory2d", "marginals", "autocorr")}
    fig_covariance(plt, x, A, beta, paths["covariance"])
    fig_trajectory(plt, x2, A2, b2, float(js2["beta"]), float(js2["dt"]), args.steps,
                   paths["trajectory2d"])
    fig_marginals(plt, x, A, b, beta, paths["marginals"])
    fig_autocorr(plt, x, A, beta, h, integ, paths["autocorr"])
    for p in paths.values():
        print(p)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # keep failures to one line
        print(f"{PROG}: {type(e).__name__}: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(1)
