#!/usr/bin/env bash
# tests/test_cli_bayes.sh TSPU - `tspu posterior` and `tspu logreg` end to end
# (PASS:/FAIL: lines; `make test` runs it through $(B)/tests/cli_bayes_tests).
#  - happy paths on -d model: --json keys, the posterior mean and covariance
#    against the closed form (numpy) within 5 s.e. (its twin: the prior mean
#    is rejected), -o samples (.npy and text) read back, same seed = same
#    answer, --reverse/--trace fields, logreg --predict
#  - the default device ("sim"): the posterior against the closed form and,
#    bit for bit, against the model (posterior and logreg) when its gateware
#    has the data-driven drift, else the one-line refusal naming FEATURES.DATA
#  - every input error: one stderr line "tspu: ...", exit 2, nothing on stdout
set -u
T=${1:-build/bin/tspu}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
W=$(mktemp -d /tmp/test_cli_bayes.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$(dirname "$0")/.." || exit 1
EX=examples

. tests/cli_lib.sh

POST="posterior --prior-cov $EX/bayes_prior_cov.txt --prior-mean $EX/bayes_prior_mean.txt --lik-prec $EX/bayes_lik_prec.txt --data $EX/bayes_data.txt"
LOGR="logreg --features $EX/logreg_X.txt --labels $EX/logreg_y.txt --prior-var 4"

# ---- happy path: posterior on the model -------------------------------------------
"$T" -d model --seed 5 --json -o "$W/s.npy" $POST --samples 8000 >"$W/p.json" 2>"$W/e"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$W/e" ] && pass "posterior --json -o: exit 0, quiet stderr" ||
  fail "posterior --json -o: exit 0, quiet stderr" "rc $rc: $(head -c 300 "$W/e")"
"$PY" - "$W/p.json" "$W/s.npy" "$EX" <<'EOF'
import json, sys
import numpy as np
j = json.load(open(sys.argv[1])); ex = sys.argv[3]
def ok(c, name, detail=""):
    print(("PASS: " if c else "FAIL: ") + name + ("" if c else " -- " + str(detail)))
keys = ["mean", "mean_stderr", "cov", "cov_stderr", "samples", "work", "heat", "free_energy", "device",
        "device_seconds", "wall_seconds", "steps", "flags", "estimate", "stderr", "plan"]
ok(all(k in j for k in keys) and "saturated" in j["flags"] and "fifo_overflow" in j["flags"],
   "posterior --json has every key", [k for k in keys if k not in j])
S = np.loadtxt(ex + "/bayes_prior_cov.txt"); L = np.loadtxt(ex + "/bayes_lik_prec.txt")
Y = np.loadtxt(ex + "/bayes_data.txt"); m0 = np.loadtxt(ex + "/bayes_prior_mean.txt")
P = np.linalg.inv(S); A = P + len(Y) * L; C = np.linalg.inv(A); mu = C @ (P @ m0 + L @ Y.sum(0))
m, se = np.array(j["mean"]), np.array(j["mean_stderr"])
c, cse = np.array(j["cov"]), np.array(j["cov_stderr"])
# 5 s.e.: the batch-means t statistics (40 batches) of 2 + 3 entries, plus the
# 16-bit quantisation of the problem (~1e-4 relative, far below the s.e.)
z = max(np.max(np.abs(m - mu) / se), np.max(np.abs(c - C) / cse))
ok(z < 5, "posterior: mean and covariance = closed form (numpy) within 5 s.e.", z)
zt = np.max(np.abs(m - m0) / se)
ok(zt > 5, "posterior twin: the prior mean is rejected by the same check", zt)
x = np.load(sys.argv[2])
ok(x.shape == (j["samples"], 2), "posterior -o .npy: samples x 2", x.shape)
ok(np.allclose(x.mean(0), m, atol=1e-9), "posterior -o: the samples' mean is the reported mean",
   x.mean(0) - m)
ok(len(j["work"]) == j["plan"]["ramps"] and np.isfinite(j["free_energy"]["jarzynski"]),
   "posterior: work per ramp and a Jarzynski free energy", j["work"])
EOF

"$T" -d model --seed 5 --json $POST --samples 8000 >"$W/p2.json" 2>/dev/null
"$T" -d model --seed 6 --json $POST --samples 8000 >"$W/p3.json" 2>/dev/null
"$PY" - "$W/p.json" "$W/p2.json" "$W/p3.json" <<'EOF'
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
ok = a["mean"] == b["mean"] and a["work"] == b["work"]
print(("PASS: " if ok else "FAIL: ") + "posterior: same seed, same answer")
ok = a["mean"] != c["mean"]
print(("PASS: " if ok else "FAIL: ") + "posterior: another seed, another answer")
EOF

# two devices pool the chains exactly as one device runs them
"$T" -d model --seed 4 --json $POST --samples 4000 --chains 4 >"$W/c1.json" 2>/dev/null
"$T" -d model -d model --seed 4 --json $POST --samples 4000 --chains 4 >"$W/c2.json" 2>/dev/null
"$PY" - "$W/c1.json" "$W/c2.json" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ok = a["mean"] == b["mean"] and a["cov"] == b["cov"] and a["work"] == b["work"] and b["device"] == "model,model"
print(("PASS: " if ok else "FAIL: ") + "posterior -d model -d model --chains 4 = one device, same seed")
EOF

"$T" -d model --seed 7 -o "$W/s.txt" $POST --samples 2000 >"$W/t.out" 2>"$W/e"; rc=$?
rows=$(grep -vc '^#' "$W/s.txt"); cols=$(head -1 "$W/s.txt" | wc -w)
[ $rc -eq 0 ] && [ "$rows" -ge 2000 ] && [ "$cols" -eq 2 ] && grep -q '^# posterior mean' "$W/t.out" &&
  grep -q '^# free energy' "$W/t.out" && pass "posterior text output and -o text samples" ||
  fail "posterior text output and -o text samples" "rc $rc, $rows x $cols: $(head -c 300 "$W/e")"

"$T" -d model --seed 8 --json $POST --samples 1000 --ramps 4 --reverse --trace \
  --schedule <(printf '0\n0.25\n0.5\n1\n') >"$W/r.json" 2>"$W/e"; rc=$?
"$PY" - "$W/r.json" <<'EOF'
import json, math, sys
j = json.load(open(sys.argv[1]))
t = j.get("trace", {})
ok = (len(j.get("work_reverse", [])) == 4 and math.isfinite(j["free_energy"]["bar"]) and
      t.get("lambda") and len(t["lambda"]) == 4 and abs(t["lambda"][-1] - 1) < 1e-9 and
      len(t["work"]) == 4 and all(len(r) == 4 and r[0] == 0 for r in t["work"]) and
      all(abs(r[-1] - w) < 1e-9 for r, w in zip(t["work"], j["work"])))
print(("PASS: " if ok else "FAIL: ") + "posterior --reverse --trace --schedule: BAR, reverse works, W at every knot"
      + ("" if ok else " -- " + json.dumps({k: j.get(k) for k in ("work", "trace", "free_energy")})[:300]))
EOF

# ---- happy path: logreg ----------------------------------------------------------
"$T" -d model --seed 9 --json $LOGR --predict $EX/logreg_Xnew.txt --samples 4000 --ti 6 >"$W/l.json" 2>"$W/e"; rc=$?
"$PY" - "$W/l.json" $rc <<'EOF'
import json, sys
ok = sys.argv[2] == "0"
try:
    j = json.load(open(sys.argv[1]))
    p = j["predict"]
    ok = ok and len(p) == 4 and all(0 < v < 1 for v in p) and len(j["predict_stderr"]) == 4 \
        and j["work"] is None and j["link_err"] < 0.01 and len(j["mean"]) == 3 and p[3] > p[0] > p[2] \
        and j["free_energy"]["ti"] > 0 and len(j["free_energy"]["ti_u_lik"]) == 6
except Exception as e:  # noqa
    ok = False
print(("PASS: " if ok else "FAIL: ") + "logreg --predict --ti --json: probabilities, their s.e., no work, link_err, TI free energy")
EOF

# ---- the default device --------------------------------------------------------------
"$T" --seed 3 --json $POST --samples 4000 --ramps 2 >"$W/d.json" 2>"$W/e"; rc=$?
if [ $rc -eq 0 ]; then
  "$PY" - "$W/d.json" "$EX" <<'EOF'
import json, sys
import numpy as np
j = json.load(open(sys.argv[1])); ex = sys.argv[2]
S = np.loadtxt(ex + "/bayes_prior_cov.txt"); L = np.loadtxt(ex + "/bayes_lik_prec.txt")
Y = np.loadtxt(ex + "/bayes_data.txt"); m0 = np.loadtxt(ex + "/bayes_prior_mean.txt")
P = np.linalg.inv(S); A = P + len(Y) * L; C = np.linalg.inv(A); mu = C @ (P @ m0 + L @ Y.sum(0))
z = max(np.max(np.abs(np.array(j["mean"]) - mu) / np.array(j["mean_stderr"])),
        np.max(np.abs(np.array(j["cov"]) - C) / np.array(j["cov_stderr"])))
ok = z < 5 and not j["flags"]["saturated"]
print(("PASS: " if ok else "FAIL: ") + "posterior on the default device (%s, with the data drift) = closed form within 5 s.e." % j["device"]
      + ("" if ok else " -- device %s, max |z| %.2f" % (j["device"], z)))
EOF
  # the whole algorithm bit for bit: the Verilated RTL against the C model
  # with the same lanes (ramps, works, samples, logistic link table)
  if "$T" -d sim --json info | grep -q '"n":16'; then MS="model?n=16"; else MS="model?n=8"; fi
  SMALL="--samples 800 --batches 10 --ramps 2"
  "$T" -d sim --seed 5 --json $POST $SMALL >"$W/bs.json" 2>/dev/null
  "$T" -d "$MS" --seed 5 --json $POST $SMALL >"$W/bm.json" 2>/dev/null
  "$T" -d sim --seed 6 --json $LOGR $SMALL --predict $EX/logreg_Xnew.txt >"$W/ls.json" 2>/dev/null
  "$T" -d "$MS" --seed 6 --json $LOGR $SMALL --predict $EX/logreg_Xnew.txt >"$W/lm.json" 2>/dev/null
  "$PY" - "$W/bs.json" "$W/bm.json" "$W/ls.json" "$W/lm.json" <<'EOF'
import json, sys
a, b, c, d = (json.load(open(f)) for f in sys.argv[1:5])
ok = all(a[k] == b[k] for k in ("mean", "cov", "work", "heat", "steps")) and a["device"] == "sim"
print(("PASS: " if ok else "FAIL: ") + "posterior on sim = on the model, bit for bit (samples, works, heat)")
ok = all(c[k] == d[k] for k in ("mean", "cov", "predict", "steps"))
print(("PASS: " if ok else "FAIL: ") + "logreg on sim = on the model, bit for bit (link table, predictions)")
EOF
else
  expect_err "default device without the data drift: one line, FEATURES.DATA" 1 \
    "device 'sim' gateware has no data-driven drift \(FEATURES.DATA=0\)" "$T" --seed 3 $POST
fi

# ---- input errors -----------------------------------------------------------------
printf '1 2\n2 1\n' >"$W/indef.txt"
printf '1 0\n0 1\n' >"$W/I2.txt"
printf '1 0 0\n0 1 0\n' >"$W/H23.txt"
printf '0.5 1\nnan 2\n' >"$W/nan.txt"
printf '1\n0\n2\n' >"$W/y3.txt"
printf '1\n0\n' >"$W/y2.txt"
printf '1\n0\n1\n' >"$W/y3ok.txt"
"$PY" -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1100): f.write("%g %g\n" % (0.01 * i, -0.01 * i))' "$W/Y1100.txt"
"$PY" -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(9): f.write(" ".join("1" if i == j else "0" for j in range(9)) + "\n")' "$W/I9.txt"
printf '1 2 3 4 5 6 7 8 9\n' >"$W/Y9.txt"
M="-d model"
D="--data $EX/bayes_data.txt"
expect_err "posterior: missing --data"      2 "missing --data"                   "$T" $M posterior --prior-prec 1 --lik-prec 1
expect_err "posterior: missing --lik-prec"  2 "missing --lik-prec"               "$T" $M posterior --prior-prec 1 $D
expect_err "posterior: both priors"         2 "exactly one of --prior-prec"       "$T" $M posterior --prior-prec 1 --prior-cov 1 --lik-prec 1 $D
expect_err "posterior: design rows vs data" 2 "has 2 rows, each observation"     "$T" $M posterior --prior-prec 1 --lik-prec 1 $D --design "$W/H23.txt" --data "$W/y3.txt"
expect_err "posterior: prior shape"         2 "dimension 2 \(need 2 x 2\)"        "$T" $M posterior --prior-prec "$W/H23.txt" --lik-prec 1 $D
expect_err "posterior: prior not SPD"       2 "not symmetric positive definite"   "$T" $M posterior --prior-prec "$W/indef.txt" --lik-prec 1 $D
expect_err "posterior: prior cov not SPD"   2 "prior covariance is not symmetric" "$T" $M posterior --prior-cov "$W/indef.txt" --lik-prec 1 $D
expect_err "posterior: L not SPD"           2 "likelihood precision is not"       "$T" $M posterior --prior-prec 1 --lik-prec "$W/indef.txt" $D
expect_err "posterior: L shape"             2 "lik-prec: .* need a number"        "$T" $M posterior --prior-prec 1 --lik-prec "$W/H23.txt" $D
expect_err "posterior: negative precision"  2 "must be positive"                  "$T" $M posterior --prior-prec 1 --lik-prec -2 $D
expect_err "posterior: non-finite data"     2 "nan.txt:2: value 'nan' is not finite" "$T" $M posterior --prior-prec 1 --lik-prec 1 --data "$W/nan.txt"
expect_err "posterior: prior mean length"   2 "prior-mean: .* dimension 2"       "$T" $M posterior --prior-prec 1 --prior-mean "$W/y3.txt" --lik-prec 1 $D
expect_err "posterior: K beyond DATA_MAX_OBS" 2 "at most DATA_MAX_OBS = 1024"     "$T" $M posterior --prior-prec 1 --lik-prec 1 --data "$W/Y1100.txt"
expect_err "posterior: N beyond the device" 2 "N = 9 is larger than the device"   "$T" $M posterior --prior-prec 1 --lik-prec 1 --data "$W/Y9.txt"
expect_err "posterior: bad schedule"        2 "schedule: lambda knots must rise"  "$T" $M posterior --prior-prec 1 --lik-prec 1 $D --schedule <(printf '0\n0.7\n0.5\n1\n')
expect_err "posterior: bad --ramps"         2 "ramps: 0 is out of range"          "$T" $M posterior --prior-prec 1 --lik-prec 1 $D --ramps 0
expect_err "posterior: bad --ti"            2 "ti: 1 is out of range"             "$T" $M posterior --prior-prec 1 --lik-prec 1 $D --ti 1
expect_err "logreg: missing --labels"       2 "missing --labels"                  "$T" $M logreg --features $EX/logreg_X.txt
printf '1 0.5\n1 -0.5\n1 2\n' >"$W/X3.txt"
expect_err "logreg: labels not 0/1 (one line)" 2 "label 3 is 2: labels must be 0 or 1" "$T" $M logreg --features "$W/X3.txt" --labels "$W/y3.txt"
expect_err "logreg: label count mismatch"   2 "one label per row"                 "$T" $M logreg --features "$W/X3.txt" --labels "$W/y2.txt"
expect_err "logreg: non-finite features"    2 "value 'nan' is not finite"        "$T" $M logreg --features "$W/nan.txt" --labels "$W/y2.txt"
expect_err "logreg: prior not SPD"          2 "not symmetric positive definite"   "$T" $M logreg --features "$W/X3.txt" --labels "$W/y3ok.txt" --prior-prec "$W/indef.txt"
expect_err "logreg: both prior options"     2 "at most one of --prior-prec"       "$T" $M logreg --features "$W/X3.txt" --labels "$W/y2.txt" --prior-prec 1 --prior-var 1
expect_err "logreg: predict columns"        2 "predict: .* has 3 columns, the features have 2" "$T" $M logreg --features "$W/X3.txt" --labels "$W/y3.txt" --predict "$EX/logreg_Xnew.txt"
expect_err "posterior: unwritable -o"       2 "cannot"                            "$T" $M -o "$W/no/such/x.npy" $POST --samples 100

# ---- Ctrl-C: the unit stops, exit 130, one line, no half sample file -----------------
"$T" -d model --seed 4 -o "$W/int.npy" $POST --samples 4000000000 >"$W/iout" 2>"$W/ierr" &
pid=$!
sleep 1
kill -INT $pid
wait $pid; r=$?
if [ $r -eq 130 ] && [ "$(wc -l <"$W/ierr")" -eq 1 ] && grep -q "interrupted: stopped the unit" "$W/ierr" &&
   [ ! -e "$W/int.npy" ]; then
  pass "posterior: Ctrl-C stops the unit, exit 130, one line, no partial sample file"
else fail "posterior: Ctrl-C stops the unit, exit 130, one line, no partial sample file" "rc $r: $(head -c 300 "$W/ierr")"; fi

# ---- help -------------------------------------------------------------------------
"$T" posterior --help >"$W/h1" 2>&1 && grep -q -- "--lik-prec" "$W/h1" && grep -q -- "--reverse" "$W/h1" &&
  pass "posterior --help" || fail "posterior --help" "$(head -c 200 "$W/h1")"
"$T" help logreg >"$W/h2" 2>&1 && grep -q -- "--predict" "$W/h2" && pass "help logreg" ||
  fail "help logreg" "$(head -c 200 "$W/h2")"
"$T" --help | grep -q "posterior" && pass "tspu --help lists posterior and logreg" ||
  fail "tspu --help lists posterior and logreg" ""
exit 0
