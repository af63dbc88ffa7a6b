#!/usr/bin/env python3
"""fpga/sta.py - crude unit-delay timing of a yosys synth_ice40 netlist.

usage: fpga/sta.py NETLIST.json TOP [LIMIT] [PATHLEN]   (make sta)

nextpnr reports only the worst path of a clock; to see *every* long path
before place and route, this walks the JSON netlist that fpga/build.sh
writes (OUTDIR/tspu.json) and prints, per register endpoint signal, the
depth of its longest combinational cone in "units" (1 unit = one LUT
level with its routing, ~3.5 ns on a well-filled UP5K; a carry bit 0.12;
a block RAM / DSP output 1.4; an unregistered SB_MAC16 input 3 more),
longest first, down to LIMIT (default 0), with the path (PATHLEN signals,
default 14).  A 48 MHz build wants every endpoint at about 6 units or
less.  It knows no placement: use it to find paths, nextpnr to measure.
"""
import json
import sys

LUT, CARRY, RAMQ, MACC = 1.0, 0.12, 1.4, 3.0


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    top = argv[2]
    lim = float(argv[3]) if len(argv) > 3 else 0.0
    plen = int(argv[4]) if len(argv) > 4 else 14
    try:
        mods = json.load(open(argv[1]))["modules"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"sta: {argv[1]}: not a yosys JSON netlist ({e})")
    if top not in mods:
        sys.exit(f"sta: {argv[1]}: no module {top}")
    m = mods[top]
    netname = {}   # bit -> the shortest user-given name
    for n, d in m["netnames"].items():
        for i, b in enumerate(d["bits"]):
            if not isinstance(b, int):
                continue
            nm = f"{n}[{i}]" if len(d["bits"]) > 1 else n
            old = netname.get(b)
            if old is None or (old.startswith("$") and not n.startswith("$")) or \
               (not n.startswith("$") and len(nm) < len(old)):
                netname[b] = nm
    drivers, starts, ends = {}, {}, []

    def bits(c, ports):
        return [b for p in ports for b in c["connections"].get(p, []) if isinstance(b, int)]

    for cn, c in m["cells"].items():
        t, con = c["type"], c["connections"]
        pd = c.get("port_directions", {})
        ins = [p for p, d in pd.items() if d == "input"]
        outs = [p for p, d in pd.items() if d == "output"]
        if t == "SB_LUT4":
            drivers[con["O"][0]] = (LUT, bits(c, ["I0", "I1", "I2", "I3"]))
        elif t == "SB_CARRY":
            drivers[con["CO"][0]] = (CARRY, bits(c, ["CI", "I0", "I1"]))
        elif t.startswith("SB_DFF"):
            starts[con["Q"][0]] = 0.3
            ends += [(cn, p, b, 0.0) for p in ins if p != "C" for b in bits(c, [p])]
        elif t == "SB_MAC16":
            prm = {k: int(v, 2) for k, v in c.get("parameters", {}).items()
                   if isinstance(v, str) and v and set(v) <= set("01")}
            for b in bits(c, ["O"]):
                starts[b] = RAMQ
            ends += [(cn, p, b, 0.0 if prm.get(p + "_REG", 0) else MACC)
                     for p in ins if p != "CLK" for b in bits(c, [p])]
        else:   # RAMs, SPRAMs, PLL, IO: registered outputs, inputs are endpoints
            for b in bits(c, outs):
                starts[b] = RAMQ
            ends += [(cn, p, b, 0.0) for p in ins for b in bits(c, [p])]

    arr, prev = {}, {}

    def at(b):  # iterative longest arrival (deep cones overflow recursion)
        stack = [b]
        while stack:
            x = stack[-1]
            if x in arr:
                stack.pop()
                continue
            if x in starts or x not in drivers:
                arr[x], prev[x] = starts.get(x, 0.0), None
                stack.pop()
                continue
            d, ins = drivers[x]
            pending = [i for i in ins if i not in arr]
            if pending:
                stack.extend(pending)
                continue
            best, pb = 0.0, None
            for i in ins:
                if arr[i] > best:
                    best, pb = arr[i], i
            arr[x], prev[x] = best + d, pb
            stack.pop()
        return arr[b]

    res = sorted(((at(b) + e, cn, p, b) for cn, p, b, e in ends), reverse=True)
    seen = set()
    for a, cn, p, b in res:
        if a < lim:
            break
        key = netname.get(b, str(b)).split("[")[0]
        if key in seen:
            continue
        seen.add(key)
        path, x = [], b
        while x is not None and len(path) < plen:
            path.append(f"{netname.get(x, '?')} {arr.get(x, 0):.1f}")
            x = prev.get(x)
        print(f"{a:6.2f} {cn}.{p} <- " + " < ".join(path))


if __name__ == "__main__":
    main(sys.argv)
