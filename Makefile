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
DEP_LIBS   = -lcurl -lssl -lcrypto -ljson-c -lxml2 -lz

PG_CPPFLAGS = -I$(srcdir)/src $(XML_CFLAGS) $(JSON_CFLAGS)
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
SHLIB_LINK  = $(DEP_LIBS)

REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/s3db_fdw--%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)
ISOLATION    = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
TAP_TESTS    = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

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

test/unit/bin/%: test/unit/%.c $(UNIT_CORE) test/unit/unit.h
	@mkdir -p test/unit/bin
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_EXTRA) -Isrc -Itest/unit $(XML_CFLAGS) $(JSON_CFLAGS) $< $(UNIT_CORE) $(DEP_LIBS) -lm -o $@

.PHONY: unit unit-build
unit-build: $(UNIT_BINS)
unit: unit-build
	cd test/unit && prove -e '' $(patsubst test/unit/%,%,$(UNIT_BINS))

clean: clean-unit
clean-unit:
	rm -rf test/unit/bin test/unit/obj
