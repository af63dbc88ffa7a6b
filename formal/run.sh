#!/usr/bin/env bash
# formal/run.sh OUTDIR - bounded model checks (yosys + yosys-smtbmc + z3) of
# the properties written beside the RTL (`ifdef FORMAL): the sample FIFO
# invariants and the sequencer invariants.  Depth 24 >= 20.
set -eu
out=${1:-build/formal}
depth=${FORMAL_DEPTH:-24}
mkdir -p "$out"
run() { # name top files...
  local name=$1 top=$2 par=$3; shift 3
  yosys -q -l "$out/$name.yosys.log" -p "read_verilog -formal -DFORMAL $* ; \
      $par prep -top $top; memory_map; opt -fast; \
      async2sync; dffunmap; write_smt2 -wires $out/$name.smt2" 
  if timeout "${FORMAL_TIMEOUT:-300}" yosys-smtbmc -s z3 --presat -t "$depth" "$out/$name.smt2" > "$out/$name.log" 2>&1; then
    echo "PASS: formal $name (BMC depth $depth)"
  else
    echo "FAIL: formal $name -- see $out/$name.log"; tail -5 "$out/$name.log"; return 1
  fi
}
rc=0
run fifo tspu_fifo 'chparam -set AW 2 tspu_fifo;' rtl/tspu_fifo.v rtl/tspu_ram.v || rc=1
run sequencer tspu_sequencer '' rtl/tspu_sequencer.v || rc=1
exit $rc
