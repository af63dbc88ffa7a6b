#!/usr/bin/env bash
# Install the Debian packages tspu needs, only those missing.
# Used by `make test`, `make demo` and `make bench`; see README.md.
set -euo pipefail
PKGS=(
  gcc g++ make pkg-config            # C11 host code, Verilator's C++
  liblapacke-dev libopenblas-dev     # reference numerics in tests, host algorithms
  libgsl-dev                         # reference MCMC / special functions in tests
  python3 python3-numpy              # numpy baseline in benchmarks
  python3-matplotlib                 # bench plot (bench/algo_bench.sh)
  verilator                          # RTL simulation and lint
  yosys nextpnr-ice40 fpga-icestorm  # synthesis, place and route, bitstreams
  z3                                 # formal checks (yosys-smtbmc)
  libftdi1-dev libusb-1.0-0-dev      # the FTDI link to a board
  valgrind                           # memory checks of the CLI (tests/test_sanitize.sh)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
