#!/usr/bin/env python3
# fpga_json.py PATH BOARD N P LCS DSPS BRAMS FMAX CLOCK_MHZ FITS MEETS - replace or add
# the (board, n, p) row of bench/results/fpga.json (fpga/build*.sh).
import json, os, sys
path, board, n, p, lcs, dsps, brams, fmax, mhz, fits, meets = sys.argv[1:]
doc = {"builds": []}
if os.path.exists(path):
    try:
        doc = json.load(open(path))
    except ValueError:
        pass
row = {"board": board, "n": int(n), "p": int(p), "lcs": int(lcs), "dsps": int(dsps),
       "brams": int(brams), "fmax_mhz": float(fmax) if fmax else None,
       "clock_mhz": int(mhz), "fits": fits == "true", "meets_timing": meets == "true"}
b = [r for r in doc.get("builds", []) if (r.get("board"), r.get("n"), r.get("p")) != (board, row["n"], row["p"])]
b.append(row)
b.sort(key=lambda r: (r["board"], r["n"], r["p"]))
doc["builds"] = b
# other keys (bench/fpga_bench.py's relaxation table) are kept as they were
rest = "".join(",\n " + json.dumps(k) + ": " + json.dumps(v) for k, v in doc.items() if k != "builds")
with open(path, "w") as f:
    f.write('{"builds": [\n' + ",\n".join("  " + json.dumps(r) for r in b) + "\n]" + rest + "}\n")
