#!/usr/bin/env python3
"""fpga/sta_test.py - checks fpga/sta.py on hand-made netlists: a chain of
three LUTs between two flip-flops is 3.3 units deep (launch 0.3 + 3 LUTs), a
4-bit carry chain behind a LUT adds 4 x 0.12, and the deeper of two
endpoints is listed first.  The would-fail twin: the same netlist with one
LUT taken out of the chain must not report 3.3.  PASS / FAIL lines."""
import json, os, subprocess, sys, tempfile

STA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sta.py")


def netlist(luts, carries=0):
    cells, bit = {}, [10]

    def nb():
        bit[0] += 1
        return bit[0]
    q = nb()
    cells["ff_a"] = {"type": "SB_DFF", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                     "connections": {"C": [2], "D": [3], "Q": [q]}}
    x = q
    for i in range(luts):
        o = nb()
        cells[f"lut{i}"] = {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "I2": "input",
                            "I3": "input", "O": "output"},
                            "connections": {"I0": [x], "I1": ["0"], "I2": ["0"], "I3": ["0"], "O": [o]}}
        x = o
    for i in range(carries):
        o = nb()
        cells[f"cy{i}"] = {"type": "SB_CARRY", "port_directions": {"CI": "input", "I0": "input", "I1": "input",
                           "CO": "output"}, "connections": {"CI": [x], "I0": ["0"], "I1": ["0"], "CO": [o]}}
        x = o
    cells["ff_deep"] = {"type": "SB_DFF", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                        "connections": {"C": [2], "D": [x], "Q": [nb()]}}
    cells["ff_near"] = {"type": "SB_DFF", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                        "connections": {"C": [2], "D": [q], "Q": [nb()]}}
    names = {"deep_d": {"bits": [x]}, "near_d": {"bits": [q]}}
    return {"modules": {"top": {"cells": cells, "netnames": names}}}


def run(nl):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(nl, f)
    try:
        out = subprocess.run([sys.executable, STA, f.name, "top"], capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return [(float(l.split()[0]), l.split()[1]) for l in out.splitlines() if l.strip()]


def check(name, ok, detail):
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else " -- " + detail))
    return ok


r = run(netlist(3))
check("sta: three LUTs between flip-flops are 3.3 units, listed first",
      len(r) >= 2 and abs(r[0][0] - 3.3) < 1e-9 and r[0][1].startswith("ff_deep") and r[1][0] < r[0][0], str(r))
r = run(netlist(1, carries=4))
check("sta: a LUT and a 4-bit carry chain are 1.78 units", len(r) >= 1 and abs(r[0][0] - 1.78) < 1e-9, str(r))
r = run(netlist(2))
check("sta: twin with a LUT less is not judged 3.3 units", len(r) >= 1 and abs(r[0][0] - 3.3) > 0.5, str(r))
