# The TTL plugin: records inserted through SQL get the expiration-index
# entries s3db.js's TTLPlugin writes (and s3db.js reads them), records
# inserted by s3db.js with its TTLPlugin are expired by the worker's leader
# too, each exactly once; an updated TTL field postpones expiry; the
# soft-delete and archive actions; s3db_ttl_sweep() and s3db_ttl_status();
# the worker sweeps a table with its owner's privileges.
#
# The s3db.js part needs node and test/interop/node_modules (S3DB_FDW_SRC
# names the source tree; test/tap.sh sets it) and is skipped without them.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;
use Time::HiRes qw(time usleep);

my $store = PostgreSQL::Test::Utils::tempdir();
my $bucket = "$store/bucket";
my $src = $ENV{S3DB_FDW_SRC} // '';
my $s3dbjs = "$src/test/interop/node_modules/s3db.js/dist/index.js";
my $have_js = $src ne '' && -f $s3dbjs && system('node --version >/dev/null 2>&1') == 0;

# Run an s3db.js script on the store; returns its stdout.
sub js
{
	my ($body) = @_;
	my $file = "$store/script.mjs";
	open(my $fh, '>', $file) or die;
	print $fh "const { S3db, TTLPlugin } = await import('$s3dbjs');\n"
	  . "const db = new S3db({ connectionString: 'file://$bucket', logLevel: 'silent' });\n"
	  . "await db.connect();\n$body\nawait db.disconnect();\n";
	close $fh;
	my $out = `node $file 2>&1`;
	die "s3db.js script failed: $out" if $? != 0;
	return $out;
}

my $node = PostgreSQL::Test::Cluster->new('ttl');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.coordinator_server = 'store'
s3db_fdw.lease_ms = 3000
s3db_fdw.heartbeat_ms = 300
});
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE SERVER store FOREIGN DATA WRAPPER s3db_fdw
	  OPTIONS (connection_string 'file://$bucket');
	CREATE FOREIGN TABLE sess (id text, name text) SERVER store;
	CREATE FOREIGN TABLE tok (id text, "validUntil" timestamptz) SERVER store;
	CREATE FOREIGN TABLE soft (id text, name text, deletedat text, isdeleted text) SERVER store;
	CREATE FOREIGN TABLE arch (id text, name text) SERVER store;
	CREATE FOREIGN TABLE arch_archive (id text, name text, "archivedAt" text,
	  "archivedFrom" text, "originalId" text) SERVER store;
	CREATE FOREIGN TABLE keep (id text, name text) SERVER store;
	SELECT s3db_create_resource(t) FROM unnest('{sess,tok,soft,arch,arch_archive,keep}'::regclass[]) t;
	INSERT INTO s3db_fdw_ttl (ftable, ttl) VALUES ('sess', '3 s'), ('keep', '1 hour');
	INSERT INTO s3db_fdw_ttl (ftable, field) VALUES ('tok', 'validUntil');
	INSERT INTO s3db_fdw_ttl (ftable, ttl, action) VALUES ('soft', '2 s', 'soft-delete');
	INSERT INTO s3db_fdw_ttl (ftable, ttl, action, archive_resource)
	  VALUES ('arch', '2 s', 'archive', 'arch_archive');
});
ok(defined wait_true($node, "SELECT is_leader FROM s3db_coordinator()", 15), 'the worker leads');

# ---- index entries of SQL inserts, in the writing transaction ----
$node->safe_psql('postgres', "BEGIN; INSERT INTO keep VALUES ('k0', 'gone'); ROLLBACK;");
# the cohort is the hour of now + 1 hour, read on both sides of the insert
# (one on an hour boundary may belong to either)
my $cohort_sql = "SELECT to_char((now() + interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')";
my $cohort_before = $node->safe_psql('postgres', $cohort_sql);
$node->safe_psql('postgres', "INSERT INTO keep VALUES ('k1', 'kept')");
my $cohort = $node->safe_psql('postgres', $cohort_sql);
my $entries = $node->safe_psql('postgres',
	"SELECT string_agg(key, ',' ORDER BY key) FROM s3db_list('store', 'resource=plg_ttl_expiration_index/')");
$cohort = $cohort_before if $entries =~ /expiresAtCohort=\Q$cohort_before\E\//;
is($entries,
	"resource=plg_ttl_expiration_index/data/id=keep:k1,"
	  . "resource=plg_ttl_expiration_index/partition=byExpiresAtCohort/expiresAtCohort=$cohort/id=keep:k1",
	'an SQL insert writes the entry and its cohort reference; a rollback writes nothing');
$node->safe_psql('postgres', qq{
	CREATE SCHEMA idx;
	IMPORT FOREIGN SCHEMA s3db LIMIT TO (plg_ttl_expiration_index) FROM SERVER store INTO idx;
});
is($node->safe_psql('postgres',
		qq{SELECT "resourceName", "recordId", "expiresAtCohort", granularity,
		          abs("expiresAtTimestamp" - extract(epoch FROM now() + interval '1 hour') * 1000) < 5000,
		          "createdAt" <= now() + interval '1 s'
		     FROM idx.plg_ttl_expiration_index WHERE id = 'keep:k1'}),
	"keep|k1|$cohort|hour|t|t", 'entry fields as s3db.js writes them');

SKIP:
{
	skip 'node or test/interop/node_modules not available', 2 unless $have_js;
	my $out = js(q{
		const e = await db.resources.plg_ttl_expiration_index.get('keep:k1');
		console.log(JSON.stringify([e.resourceName, e.recordId, e.expiresAtCohort, e.granularity,
			typeof e.expiresAtTimestamp]));
	});
	like($out, qr/\["keep","k1","\Q$cohort\E","hour","number"\]/, 's3db.js reads the entry');

	# s3db.js with its TTLPlugin (never sweeping: enableCoordinator false)
	js(q{
		await db.usePlugin(new TTLPlugin({ enableCoordinator: false,
			resources: { sess: { ttl: 3, onExpire: 'hard-delete' } } }));
		await db.resources.sess.insert({ id: 'j1', name: 'from s3db.js' });
		await db.resources.sess.insert({ id: 'j2', name: 'from s3db.js' });
	});
	is($node->safe_psql('postgres', "SELECT count(*) FROM idx.plg_ttl_expiration_index WHERE \"resourceName\" = 'sess'"),
		'2', 's3db.js wrote its entries');
}

# ---- expiry by the leader: SQL and s3db.js records, exactly once ----
$node->safe_psql('postgres', "INSERT INTO sess VALUES ('s1', 'sql'), ('s2', 'sql')");
my $n = $have_js ? 4 : 2;
my $took = wait_true($node, "SELECT count(*) = 0 FROM sess", 15);
ok(defined $took, 'the leader expires every due record') or diag($node->safe_psql('postgres', 'SELECT * FROM s3db_ttl_status()'));
is($node->safe_psql('postgres',
		"SELECT total_expired, last_error IS NULL, last_sweep > now() - interval '5 s' FROM s3db_ttl_status() WHERE ftable = 'sess'::regclass"),
	"$n|t|t", 'each record expired exactly once; status shows the sweep');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM s3db_list('store', 'resource=plg_ttl_expiration_index/') WHERE key LIKE '%sess:%'"),
	'0', 'entries and references of expired records are gone');
is($node->safe_psql('postgres', "SELECT s3db_ttl_sweep('sess')"), '0', 'a manual sweep finds nothing more');
is($node->safe_psql('postgres', "SELECT count(*) FROM keep"), '1', 'a record not yet due stays');

# ---- an updated TTL field postpones expiry ----
$node->safe_psql('postgres', qq{
	INSERT INTO tok VALUES ('t1', now() + interval '2 s'), ('t2', now() + interval '2 s');
	UPDATE tok SET "validUntil" = now() + interval '1 hour' WHERE id = 't2';
});
ok(defined wait_true($node, "SELECT count(*) = 1 FROM tok", 15), 'the due token expires');
sleep 1;
is($node->safe_psql('postgres', "SELECT string_agg(id, ',') FROM tok"), 't2', 'the postponed one stays');
is($node->safe_psql('postgres',
		"SELECT \"expiresAtTimestamp\" > extract(epoch FROM now() + interval '50 min') * 1000 "
		  . "FROM idx.plg_ttl_expiration_index WHERE id = 'tok:t2'"),
	't', 'its index entry moved with the field');

# ---- soft-delete and archive ----
$node->safe_psql('postgres', qq{
	INSERT INTO soft VALUES ('d1', 'soft');
	INSERT INTO arch VALUES ('a1', 'old');
});
ok(defined wait_true($node, "SELECT isdeleted = 'true' AND deletedat::timestamptz <= now() FROM soft WHERE id = 'd1'", 15),
	'soft-delete sets deletedat and isdeleted, the record stays');
ok(defined wait_true($node, "SELECT count(*) = 0 FROM arch", 15), 'archive removes the record');
is($node->safe_psql('postgres',
		qq{SELECT name, "archivedFrom", "originalId", id <> 'a1', "archivedAt"::timestamptz <= now() FROM arch_archive}),
	'old|arch|a1|t|t', 'and keeps a copy with archivedFrom/originalId/archivedAt');
sleep 1;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM s3db_list('store', 'resource=plg_ttl_expiration_index/') WHERE key ~ '(soft|arch):'"),
	'0', 'their entries are gone');
is($node->safe_psql('postgres', "SELECT count(*) FROM soft"), '1', 'a soft-deleted record is not expired again');

# ---- configuration changes apply without restart ----
$node->safe_psql('postgres', "UPDATE s3db_fdw_ttl SET enabled = false WHERE ftable = 'sess'::regclass");
$node->safe_psql('postgres', "INSERT INTO sess VALUES ('s3', 'no ttl now')");
is($node->safe_psql('postgres', "SELECT count(*) FROM s3db_list('store', 'resource=plg_ttl_expiration_index/data/id=sess:')"),
	'0', 'a disabled table gets no entries');

# ---- the worker sweeps a table as its owner, with the owner's privileges ----
$node->safe_psql('postgres', q{
	CREATE ROLE app;
	GRANT pg_read_server_files, pg_write_server_files TO app;    -- a file:// store
	GRANT USAGE ON FOREIGN SERVER store TO app;
	CREATE FOREIGN TABLE owned (id text, name text) SERVER store;
	SELECT s3db_create_resource('owned');
	ALTER FOREIGN TABLE owned OWNER TO app;
	REVOKE DELETE ON owned FROM app;
	INSERT INTO s3db_fdw_ttl (ftable, ttl) VALUES ('owned', '1 s');
	INSERT INTO owned VALUES ('o1', 'x');
});
ok(defined wait_true($node, "SELECT last_error LIKE '%permission denied%' FROM s3db_ttl_status() "
		  . "WHERE ftable = 'owned'::regclass", 20),
	'the worker does not sweep a table whose owner may not delete from it');
is($node->safe_psql('postgres', "SELECT count(*) FROM owned"), '1', 'the record stays');
$node->safe_psql('postgres', "GRANT DELETE ON owned TO app");
ok(defined wait_true($node, "SELECT count(*) = 0 FROM owned", 20), 'once the owner may, it is swept');

$node->stop;
done_testing();
