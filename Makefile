# s3db_fdw -- PostgreSQL foreign data wrapper for s3db.js object stores
#
# Layers (see README.md):
#   src/store   object-store core (S3 over libcurl + SigV4, file://, memory://)
#   src/format  s3db.js format (catalog, codecs, records); no PostgreSQL headers
#   src/fdw     the PostgreSQL side
#   plugins     background worker and plugins

MODULE_big = s3db_fdw
EXTENSION  = s3db_fdw
DATA       = $(wildcard sql/s3db_fdw--*.sql)
PGFILEDESC = "s3db_fdw - foreign data wrapper for s3db.js object stores"

CORE_SRCS  = $(sort $(wildcard src/store/*.c src/format/*.c src/coord/*.c))
PG_SRCS    = s3db_fdw.c $(sort $(wildcard src/fdw/*.c plugins/*.c))
OBJS       = $(PG_SRCS:.c=.o) $(CORE_SRCS:.c=.o)

XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
JSON_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
DEP_LIBS   = -lcurl -lssl -lcrypto -ljson-c -lxml2 -lz -lpthread

PG_CPPFLAGS = -I$(srcdir)/src $(XML_CFLAGS) $(JSON_CFLAGS)
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
SHLIB_LINK  = $(DEP_LIBS)

REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/s3db_fdw--%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)
ISOLATION    = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --load-extension=$(EXTENSION)
REGRESS_PREP = s3db-regress-prep
# The TAP tests (t/) start clusters of their own and need the S3 test
# server: test/tap.sh runs them, "make installcheck" does not.

# ---- make installcheck against an existing cluster (PGHOST, PGPORT, PGUSER) ----
# The suites read fixture stores and write scratch stores named by these
# variables.  Unless given, they are file:// directories under
# S3DB_REGRESS_DIR, copied from test/fixtures and opened to the server's OS
# user, so the server must run on this host and the connecting role must be
# a superuser or a member of pg_read_server_files and pg_write_server_files.
# For a remote server, point them at S3 (test/fixtures/upload.mjs uploads
# the fixtures).
# one directory per user and source tree: trees built side by side do not
# wipe each other's stores
ifndef S3DB_REGRESS_DIR
S3DB_REGRESS_DIR := /tmp/s3db_fdw_installcheck-$(shell id -u)-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
endif
S3DB_FIXTURE_URL   ?= file://$(S3DB_REGRESS_DIR)/fixtures/store
S3DB_BROKEN_URL    ?= file://$(S3DB_REGRESS_DIR)/fixtures/broken
S3DB_CORRUPT_URL   ?= file://$(S3DB_REGRESS_DIR)/fixtures/corrupt
S3DB_WRITE_URL     ?= file://$(S3DB_REGRESS_DIR)/write
S3DB_ISOLATION_URL ?= file://$(S3DB_REGRESS_DIR)/isolation
export S3DB_FIXTURE_URL S3DB_BROKEN_URL S3DB_CORRUPT_URL S3DB_WRITE_URL
# the isolation specs read their store from the setting s3db_test.url
installcheck: export PGOPTIONS += -c s3db_test.url=$(S3DB_ISOLATION_URL)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Fresh scratch stores for every run; the fixtures are only read.
.PHONY: s3db-regress-prep
s3db-regress-prep:
	@case '$(S3DB_REGRESS_DIR)' in /*) ;; *) echo "S3DB_REGRESS_DIR must be absolute" >&2; exit 1;; esac
	rm -rf '$(S3DB_REGRESS_DIR)'
	mkdir -p '$(S3DB_REGRESS_DIR)/write' '$(S3DB_REGRESS_DIR)/isolation'
	cp -R '$(srcdir)/test/fixtures' '$(S3DB_REGRESS_DIR)/fixtures'
	chmod -R a+rwX '$(S3DB_REGRESS_DIR)'

# Objects depend on every header of the tree: small headers, full rebuilds.
$(OBJS): $(wildcard src/*/*.h plugins/*.h)

# src/store and src/format are plain C11, not PostgreSQL code: they may
# declare variables where they are first used.
$(CORE_SRCS:.c=.o): CFLAGS += -Wno-declaration-after-statement

# ---- C unit tests of src/ (no PostgreSQL) ----
UNIT_CC      ?= $(CC)
UNIT_CFLAGS  ?= -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
UNIT_SRCS    = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS    = $(patsubst test/unit/%.c,test/unit/bin/%,$(UNIT_SRCS))
UNIT_CORE    = $(patsubst %.c,test/unit/obj/%.o,$(CORE_SRCS))

test/unit/obj/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_EXTRA) -Isrc $(XML_CFLAGS) $(JSON_CFLAGS) -c $< -o $@

test/unit/bin/%: test/unit/%.c $(UNIT_CORE) $(wildcard test/unit/*.h)
	@mkdir -p test/unit/bin
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_EXTRA) -Isrc -Itest/unit $(XML_CFLAGS) $(JSON_CFLAGS) $< $(UNIT_CORE) $(DEP_LIBS) -lm -o $@

.PHONY: unit unit-build
unit-build: $(UNIT_BINS)
unit: unit-build
	cd test/unit && prove -j2 -e '' $(patsubst test/unit/%,%,$(UNIT_BINS))

clean: clean-unit
clean-unit:
	rm -rf test/unit/bin test/unit/obj

# ---- fuzzing and sanitizer builds of src/ (see test/fuzz/README.md) ----
# "make fuzz" builds the libFuzzer targets of test/fuzz and runs each for
# FUZZ_SECONDS, failing on the first crash, leak or undefined behaviour;
# "make unit-asan" runs the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Both need clang (libFuzzer); neither is part
# of the default build.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS  ?= -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS = $(patsubst test/fuzz/%.c,%,$(sort $(wildcard test/fuzz/fuzz_*.c)))
FUZZ_BINS    = $(addprefix test/fuzz/bin/,$(FUZZ_TARGETS))
FUZZ_CORE    = $(patsubst %.c,test/fuzz/obj/%.o,$(CORE_SRCS))
FUZZ_ENV     = ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# longest input per target
FUZZ_MAXLEN_fuzz_catalog = 8192
FUZZ_MAXLEN_fuzz_record  = 4096
FUZZ_MAXLEN_fuzz_decode  = 1024
FUZZ_MAXLEN_fuzz_metaenc = 1024
FUZZ_MAXLEN_fuzz_connstr = 512
FUZZ_MAXLEN_fuzz_s3xml   = 8192
FUZZ_MAXLEN_fuzz_sidecar = 4096
FUZZ_MAXLEN_fuzz_creds   = 4096

test/fuzz/obj/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -Isrc $(XML_CFLAGS) $(JSON_CFLAGS) -c $< -o $@

test/fuzz/bin/%: test/fuzz/%.c test/fuzz/fuzz.h $(FUZZ_CORE)
	@mkdir -p test/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -Isrc $(XML_CFLAGS) $(JSON_CFLAGS) $< $(FUZZ_CORE) $(DEP_LIBS) -lm -o $@

.PHONY: fuzz fuzz-build unit-asan unit-asan-build clean-fuzz
fuzz-build: $(FUZZ_BINS)

# New inputs go to test/fuzz/work/<target> (ignored), crash inputs to
# test/fuzz/artifacts/; the seed corpora under test/fuzz/corpus stay as
# committed.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p test/fuzz/work/$$t test/fuzz/artifacts test/fuzz/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_ENV) test/fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=$$(case $$t in \
				fuzz_catalog) echo $(FUZZ_MAXLEN_fuzz_catalog);; \
				fuzz_record) echo $(FUZZ_MAXLEN_fuzz_record);; \
				fuzz_decode) echo $(FUZZ_MAXLEN_fuzz_decode);; \
				fuzz_metaenc) echo $(FUZZ_MAXLEN_fuzz_metaenc);; \
				fuzz_s3xml) echo $(FUZZ_MAXLEN_fuzz_s3xml);; \
				fuzz_sidecar) echo $(FUZZ_MAXLEN_fuzz_sidecar);; \
				fuzz_creds) echo $(FUZZ_MAXLEN_fuzz_creds);; \
				*) echo $(FUZZ_MAXLEN_fuzz_connstr);; esac) \
			-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=test/fuzz/artifacts/$$t- \
			test/fuzz/work/$$t test/fuzz/corpus/$$t 2>test/fuzz/work/$$t.log \
			|| { tail -n 60 test/fuzz/work/$$t.log; echo "fuzz: $$t failed"; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|Done)' test/fuzz/work/$$t.log || true; \
	done

# the unit tests, built with the sanitizers into their own directories
UNIT_ASAN_CC   ?= $(FUZZ_CC)
UNIT_ASAN_BINS = $(patsubst test/unit/%.c,test/unit/bin-asan/%,$(UNIT_SRCS))
UNIT_ASAN_CORE = $(patsubst %.c,test/unit/obj-asan/%.o,$(CORE_SRCS))

test/unit/obj-asan/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@test -f test/unit/obj-asan/.gitignore || echo '*' > test/unit/obj-asan/.gitignore
	$(UNIT_ASAN_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -Isrc $(XML_CFLAGS) $(JSON_CFLAGS) -c $< -o $@

test/unit/bin-asan/%: test/unit/%.c $(UNIT_ASAN_CORE) $(wildcard test/unit/*.h)
	@mkdir -p test/unit/bin-asan
	@test -f test/unit/bin-asan/.gitignore || echo '*' > test/unit/bin-asan/.gitignore
	$(UNIT_ASAN_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -Isrc -Itest/unit $(XML_CFLAGS) $(JSON_CFLAGS) $< $(UNIT_ASAN_CORE) $(DEP_LIBS) -lm -o $@

unit-asan-build: $(UNIT_ASAN_BINS)
unit-asan: unit-asan-build
	cd test/unit && $(FUZZ_ENV) prove -e '' $(patsubst test/unit/%,%,$(UNIT_ASAN_BINS))

clean: clean-fuzz
clean-fuzz:
	rm -rf test/fuzz/bin test/fuzz/obj test/fuzz/work test/fuzz/artifacts test/unit/bin-asan test/unit/obj-asan

# ---- the regression suite under valgrind (see test/valgrind/run.sh) ----
# Runs sql/ with every server process under memcheck, against file:// and
# the S3 test server (VALGRIND_STORES=file or s3 for one); fails on any
# error or definite leak that passes through the extension.  Needs the
# extension installed and root (a scratch cluster is started).
VALGRIND_STORES ?= all
.PHONY: valgrind
valgrind:
	test/valgrind/run.sh $(VALGRIND_STORES)
