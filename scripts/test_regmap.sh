#!/usr/bin/env bash
# Run by `make test`: the register table is consistent and docs/regmap.md is
# what the generator makes of it (PASS:/FAIL: lines like tests/tt.h).
cd "$(dirname "$0")/.." && exec "${PYTHON:-python3}" scripts/gen_regmap.py --check
