# tspu top-level Makefile.  `make demo` and `make test` install what is
# missing (scripts/deps.sh) and then build and run; see README.md.

CC      ?= gcc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror
INC     := -Ihost/model -Ihost/include
B       := build
LIBS_REF := -llapacke -lgsl -lm

MODEL_SRC := $(wildcard host/model/*.c)
HOSTLIB_SRC := $(wildcard host/lib/*.c)
MODEL_OBJ := $(MODEL_SRC:%.c=$(B)/obj/%.o)
HOSTLIB_OBJ := $(HOSTLIB_SRC:%.c=$(B)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)

.PHONY: all deps demo test test-c bench lint clean
all: $(B)/bin/tspu-demo

deps:
	@bash scripts/deps.sh

$(B)/obj/%.o: %.c $(wildcard host/model/*.h host/include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(INC) -c $< -o $@

$(B)/lib/libtspumodel.a: $(MODEL_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(B)/lib/libtspuhost.a: $(HOSTLIB_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

LIBS := $(B)/lib/libtspuhost.a $(B)/lib/libtspumodel.a

$(B)/bin/tspu-demo: host/cli/model_demo.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(INC) $< $(LIBS) $(LIBS_REF) -o $@

$(B)/tests/%: tests/%.c tests/tt.h $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(INC) -Itests $< $(LIBS) $(LIBS_REF) -o $@

demo: deps
	@$(MAKE) --no-print-directory all
	$(B)/bin/tspu-demo

# every test program; later parts of the project append to TEST_PROGS
TEST_PROGS := $(TEST_BIN)

test: deps
	@$(MAKE) --no-print-directory test-c

test-c: $(TEST_PROGS)
	@bash scripts/run_tests.sh $(TEST_PROGS)

bench: deps
	@$(MAKE) --no-print-directory $(LIBS) $(BENCH_BIN)
	B=$(B) bash bench/run.sh

# ---- bench: benchmark programs (bench/*.c), run by bench/run.sh ----------
BENCH_BIN := $(B)/bin/model_bench $(B)/bin/model_golden

$(BENCH_BIN): $(B)/bin/%: bench/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(INC) $< $(LIBS) $(LIBS_REF) -o $@
# ---- end bench -------------------------------------------------------------

clean:
	rm -rf $(B)
