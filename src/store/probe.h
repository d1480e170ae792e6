/*-------------------------------------------------------------------------
 *
 * probe.h
 *		Finding out whether a store keeps the promises s3db_fdw relies on.
 *
 * Every write of s3db_fdw is conditional: new records are created with
 * "If-None-Match: *", changed and deleted ones carry "If-Match" with the
 * ETag that was read, so a concurrent writer's change is never silently
 * overwritten.  S3 and s3rver-behind-our-proxy keep these promises, but not
 * every store that speaks S3 does: Ceph radosgw 18 answers If-Match with a
 * quoted ETag by 412 whatever the ETag and deletes objects whatever
 * If-Match says, and some stores ignore conditions altogether.  A store
 * that ignores a condition loses updates without an error.
 *
 * s3s_probe() asks the store itself, under a key prefix of its own
 * (S3S_PROBE_PREFIX plus a random name, removed again afterwards): it
 * writes with conditions that must fail and with conditions that must hold,
 * on PUT, on COPY (an object copied onto itself, as s3db_fdw changes only
 * metadata) and on DELETE, with the ETag quoted as S3 specifies and bare, and
 * writes user metadata of the size the caller needs.  The probe's requests
 * are not added to the store's request counters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_PROBE_H
#define S3DB_PROBE_H

#include "store/store.h"

/* Where the probe writes (logical keys); nothing else lives there. */
#define S3S_PROBE_PREFIX "plugin=s3db_fdw/probe/"

/* What the store did with one kind of condition. */
typedef enum s3s_cap
{
	S3S_CAP_UNTESTED = 0,
	S3S_CAP_HONOURED,			/* a stale condition failed, a true one held */
	S3S_CAP_IGNORED,			/* a condition that should fail did not */
	S3S_CAP_REFUSED,			/* a condition that holds was refused */
	S3S_CAP_NOT_NEEDED			/* the bare spelling, not tried: every write
								 * honours the quoted one */
} s3s_cap;

enum
{
	S3S_SPELL_QUOTED = 0,		/* If-Match: "etag", as S3 specifies */
	S3S_SPELL_BARE = 1			/* If-Match: etag */
};

typedef struct s3s_probe_result
{
	s3s_cap		put_if_none_match;	/* PUT If-None-Match: * */
	s3s_cap		put_if_match[2];	/* PUT If-Match, by S3S_SPELL_* */
	s3s_cap		copy_if_match[2];	/* COPY x-amz-copy-source-if-match */
	s3s_cap		delete_if_match[2]; /* DELETE If-Match, by S3S_SPELL_* */
	int			meta_wanted;	/* bytes of user metadata asked for */
	int			meta_accepted;	/* largest size tried that came back whole */
} s3s_probe_result;

/*
 * Probe st.  meta_wanted is the user-metadata size (sum of key and value
 * bytes) writes will need; when refused, smaller sizes are tried down to
 * 256 bytes.  Returns S3S_OK with *out filled, or the code of a request
 * whose failure says nothing about conditions (network, access, server
 * errors) with *err filled.  Leaves the store's conditions as they were.
 */
extern s3s_code s3s_probe(s3s_store *st, int meta_wanted, s3s_probe_result *out,
						  s3s_error *err);

/*
 * The conditions to use on a store with this result: the spelling that is
 * honoured (quoted preferred), and, only where a condition is refused in
 * both spellings, leaving it out.  Returns true when every condition is
 * honoured in the chosen spelling, i.e. the store keeps the promises.
 */
extern bool s3s_probe_conditions(const s3s_probe_result *res, s3s_conditions *out);

/*
 * The write gate.  A store opens with its gate unchecked: the first batch
 * that holds a conditional write (PUT or COPY with If-None-Match or
 * If-Match, DELETE with If-Match) probes the store, whoever sends it, and
 * the answer decides every later one.  The gate is a property of the store
 * object and not of any caller, so no path that writes (a commit, the
 * sequences of incremental ids, the catalog, the coordinator's leases, TTL
 * sweeps) can write to a store that was never checked.
 */
typedef enum s3s_gate
{
	S3S_GATE_UNCHECKED = 0,		/* not probed yet (or the probe failed) */
	S3S_GATE_OPEN,				/* every condition honoured */
	S3S_GATE_WEAK,				/* not all honoured; accepted by the config */
	S3S_GATE_CLOSED				/* conditional writes fail with S3S_ERR_UNSAFE */
} s3s_gate;

/*
 * Probe st now if it never was (or always, when force), set the conditions
 * it is written with and decide its gate.  Returns S3S_OK when conditional
 * writes may go out, S3S_ERR_UNSAFE when the gate is closed (err says
 * why), or the error that stopped the probe (the gate stays unchecked).
 */
extern s3s_code s3s_check_writes(s3s_store *st, bool force, s3s_error *err);

/*
 * Decide st's gate from a probe of the same place run through another store
 * object (another backend's connection to it), as s3s_check_writes() would
 * from its own, without asking the store again.  res must come from
 * s3s_probe() with the metadata size st needs; a result for another size
 * is ignored and st probes for itself.
 */
extern void s3s_adopt_probe(s3s_store *st, const s3s_probe_result *res);

/* The gate, and (when it was probed) the last probe's result into *res. */
extern s3s_gate s3s_write_gate(const s3s_store *st, s3s_probe_result *res);

/*
 * "If-Match on DELETE is ignored; ..." for what a store with this result
 * fails to honour when written with cond, into buf.
 */
extern void s3s_probe_describe(const s3s_probe_result *res, const s3s_conditions *cond,
							   char *buf, size_t len);

/* "honoured", "ignored", "refused", "untested" */
extern const char *s3s_cap_name(s3s_cap c);

#endif							/* S3DB_PROBE_H */
