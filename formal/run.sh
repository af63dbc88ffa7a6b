#!/usr/bin/env bash
# formal/run.sh OUTDIR - formal checks (yosys + yosys-smtbmc + z3) of the
# property wrappers in formal/ around the unchanged RTL:
#   formal/tspu_fifo_props.v       sample FIFO (count, data integrity)
#   formal/tspu_sequencer_props.v  sequencer (program order, keeps, done)
# Each check is a bounded model check to depth FORMAL_DEPTH (default 24,
# >= 20) and, where the properties are inductive, also a k-induction proof
# (unbounded).  Then the twins: mutated copies of the RTL (made here with sed,
# the RTL files are not touched) must FAIL, which shows the checks can fail.
#
# Notes on tractability:
#  * yosys-smtbmc --unroll: z3 4.8 spends minutes expanding yosys' per-state
#    define-fun functions before the first check ("stuck at step 0"); with
#    --unroll smtbmc substitutes them itself and every check here takes
#    seconds.
#  * The RTL is read with plain read_verilog (no -formal, so `FORMAL is not
#    defined and no `ifdef FORMAL code of rtl/ is used); only the wrappers are
#    read with -formal.
#  * White-box lemmas: some wrapper wires are connected to internal RTL nets
#    with `connect -set` after flatten (see the wrappers).  If the RTL renames
#    them, yosys stops with an error and the check FAILs loudly.
set -u
out=${1:-build/formal}
depth=${FORMAL_DEPTH:-24}
tmo=${FORMAL_TIMEOUT:-300}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

# prove NAME MODE EXPECT YOSYS-SCRIPT
#   MODE: bmc (depth $depth), bmc:N (depth N) or ind:K (k-induction, K steps;
#         sound together with a BMC of depth >= K, which each check here has)
#   EXPECT: pass, or fail for a twin (a counterexample must be found)
prove() {
  local name=$1 mode=$2 expect=$3 script=$4 args what rc
  case $mode in
    bmc)   args="-t $depth";  what="BMC depth $depth" ;;
    bmc:*) args="-t ${mode#bmc:}"; what="BMC depth ${mode#bmc:}, base case of the induction" ;;
    ind:*) args="-i -t ${mode#ind:}"; what="k-induction k=${mode#ind:}, unbounded" ;;
  esac
  if ! yosys -q -l "$out/$name.yosys.log" -p "$script; write_smt2 -wires $out/$name.smt2" \
        > /dev/null 2>&1; then
    echo "FAIL: formal $name -- yosys failed, see $out/$name.yosys.log"
    grep -m3 ERROR "$out/$name.yosys.log"; return 1
  fi
  local t0=$SECONDS
  timeout "$tmo" yosys-smtbmc -s z3 --unroll --noprogress $args \
      --dump-vcd "$out/$name.cex.vcd" "$out/$name.smt2" > "$out/$name.log" 2>&1
  rc=$?
  local dt=$((SECONDS - t0))
  if [ "$expect" = pass ]; then
    if [ $rc -eq 0 ] && grep -q 'Status: PASSED' "$out/$name.log"; then
      echo "PASS: formal $name ($what, ${dt}s)"; return 0
    fi
    echo "FAIL: formal $name ($what, rc $rc, ${dt}s) -- see $out/$name.log"
    grep -E 'Assert failed|Status|timeout' "$out/$name.log" | head -5; return 1
  else
    if grep -q 'BMC failed!' "$out/$name.log"; then
      echo "PASS: formal $name fails as it should ($(grep -m1 -o 'Assert failed in [^ ]* [^ ]*' "$out/$name.log" | sed 's|.*/||'), ${dt}s)"
      return 0
    fi
    echo "FAIL: formal $name: the mutated design was not caught (rc $rc) -- see $out/$name.log"
    return 1
  fi
}

# mutate SRC DST SED-EXPR: copy with a mutation; fails if nothing changed
mutate() {
  sed -e "$3" "$1" > "$2"
  if cmp -s "$1" "$2"; then
    echo "FAIL: formal twin: mutation '$3' does not apply to $1 (RTL changed? update formal/run.sh)"
    return 1
  fi
}

# ---- FIFO ---------------------------------------------------------------
fifo_script() { # AW FIFO_SRC
  local aw=$1 src=$2 k s
  s="read_verilog $src $root/rtl/tspu_ram.v; read_verilog -formal $here/tspu_fifo_props.v"
  s="$s; chparam -set AW $aw tspu_fifo_props; prep -top tspu_fifo_props; flatten; memory_map"
  s="$s; connect -set f_wp dut.wp; connect -set f_rp dut.rp"
  for ((k = 0; k < (1 << aw); k++)); do
    s="$s; connect -set f_memv[$((16 * k + 15)):$((16 * k))] \\dut.u_mem.mem[$k]"
  done
  echo "$s; opt; async2sync; dffunmap"
}

rc=0
prove fifo_aw2_bmc bmc     pass "$(fifo_script 2 "$root/rtl/tspu_fifo.v")" || rc=1
prove fifo_aw2_ind ind:4   pass "$(fifo_script 2 "$root/rtl/tspu_fifo.v")" || rc=1
prove fifo_aw3_bmc bmc     pass "$(fifo_script 3 "$root/rtl/tspu_fifo.v")" || rc=1
prove fifo_aw3_ind ind:4   pass "$(fifo_script 3 "$root/rtl/tspu_fifo.v")" || rc=1

# twin: off-by-one full (a write into a full FIFO is accepted)
if mutate "$root/rtl/tspu_fifo.v" "$out/fifo_mut_full.v" \
     's/wire do_wr = wr_en && level != DEPTH;/wire do_wr = wr_en \&\& level != DEPTH + 1'"'"'b1;/'; then
  prove fifo_twin_full bmc fail "$(fifo_script 2 "$out/fifo_mut_full.v")" || rc=1
else rc=1; fi

# ---- sequencer ------------------------------------------------------------
# EXT_TABLE = 1 is how tspu_core uses it (the segment table in the moment
# RAM); the wrapper plays the table owner, so the table is abstract here.
seq_script() { # EXT_TABLE SEQ_SRC
  local s="read_verilog $2; read_verilog -formal $here/tspu_sequencer_props.v" k
  s="$s; chparam -set EXT_TABLE $1 tspu_sequencer_props"
  s="$s; hierarchy -top tspu_sequencer_props; proc; flatten"
  if [ "$1" = 0 ]; then # the internal table words, for the g_int lemmas
    s="$s; memory -nomap; memory_map"
    for ((k = 0; k < 16; k++)); do
      s="$s; connect -set g_int.f_w_smem[$((32 * k + 31)):$((32 * k))] \\dut.g_tab.steps_mem[$k]"
      s="$s; connect -set g_int.f_w_dmem[$((32 * k + 31)):$((32 * k))] \\dut.g_tab.dl_mem[$k]"
    done
  fi
  s="$s; connect -set f_w_phase_cnt dut.phase_cnt; connect -set f_w_thin_cnt dut.thin_cnt"
  s="$s; connect -set f_w_seg_idx dut.seg_idx; connect -set f_w_nz dut.nz"
  s="$s; connect -set f_w_cur_steps dut.cur_steps"
  echo "$s; prep -top tspu_sequencer_props; memory_map; opt; async2sync; dffunmap"
}
seq=$root/rtl/tspu_sequencer.v
prove seq_bmc bmc   pass "$(seq_script 1 "$seq")" || rc=1
prove seq_ind ind:6 pass "$(seq_script 1 "$seq")" || rc=1
# EXT_TABLE = 0 (internal 16 x 2 x 32-bit table): the deep BMC is slow
# (minutes), the induction is not; its base case is a BMC of depth 8 >= k
prove seq_int_bmc bmc:8 pass "$(seq_script 0 "$seq")" || rc=1
prove seq_int_ind ind:6 pass "$(seq_script 0 "$seq")" || rc=1

# twins: a sample kept during burn-in; empty segments not skipped; segments
# at or past cfg_n_segments run
if mutate "$seq" "$out/seq_mut_burnkeep.v" \
     's/assign keep = commit \&\& phase == PH_SAMPLING/assign keep = commit \&\& (phase == PH_SAMPLING || phase == PH_BURNIN)/'; then
  prove seq_twin_burnkeep bmc fail "$(seq_script 1 "$out/seq_mut_burnkeep.v")" || rc=1
else rc=1; fi
if mutate "$seq" "$out/seq_mut_noskip.v" \
     's/nz\[seg_addr\] <= seg_steps != 32.d0;/nz[seg_addr] <= 1'"'"'b1;/'; then
  prove seq_twin_noskip bmc fail "$(seq_script 1 "$out/seq_mut_noskip.v")" || rc=1
else rc=1; fi
if mutate "$seq" "$out/seq_mut_nseg.v" \
     's/wire        fs_ok = HAVE_SCHEDULE != 0 \&\& fs\[4\] \&\& (cfg_n_segments\[4\] || fs\[3:0\] < cfg_n_segments\[3:0\]);/wire fs_ok = fs[4];/'; then
  prove seq_twin_nseg bmc fail "$(seq_script 1 "$out/seq_mut_nseg.v")" || rc=1
else rc=1; fi

exit $rc
