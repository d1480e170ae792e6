# The audit plugin: INSERT, UPDATE and DELETE through SQL on an audited
# foreign table write plg_audits records (s3db.js's AuditPlugin layout) in
# the same commit; rolled back changes leave none; the records are readable
# through IMPORT FOREIGN SCHEMA and by s3db.js (skipped without node and
# test/interop/node_modules; S3DB_FDW_SRC names the source tree).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $store = PostgreSQL::Test::Utils::tempdir();
my $bucket = "$store/bucket";
my $src = $ENV{S3DB_FDW_SRC} // '';
my $s3dbjs = "$src/test/interop/node_modules/s3db.js/dist/index.js";
my $have_js = $src ne '' && -f $s3dbjs && system('node --version >/dev/null 2>&1') == 0;

my $node = PostgreSQL::Test::Cluster->new('audit');
$node->init;
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE SERVER store FOREIGN DATA WRAPPER s3db_fdw
	  OPTIONS (connection_string 'file://$bucket');
	CREATE FOREIGN TABLE users (id text, name text, tier text, age bigint) SERVER store;
	CREATE FOREIGN TABLE other (id text, name text) SERVER store;
	SELECT s3db_create_resource('users', NULL, '{"byTier":{"fields":{"tier":"string"}}}');
	SELECT s3db_create_resource('other');
	INSERT INTO s3db_fdw_audit VALUES ('users');
});

$node->safe_psql('postgres', "INSERT INTO users VALUES ('u1', 'Ann', 'gold', 41)");
$node->safe_psql('postgres', "UPDATE users SET name = 'Anne', age = 42 WHERE id = 'u1'");
$node->safe_psql('postgres', "BEGIN; INSERT INTO users VALUES ('u2', 'Bob', 'gray', 1); ROLLBACK;");
$node->safe_psql('postgres', "DELETE FROM users WHERE id = 'u1'");
$node->safe_psql('postgres', "INSERT INTO other VALUES ('o1', 'not audited')");
my ($rc) = $node->psql('postgres', "INSERT INTO users VALUES ('u1', 'x', 'y', 1), ('u1', 'dup', 'y', 2)");
isnt($rc, 0, 'a failing statement');

$node->safe_psql('postgres', qq{
	CREATE SCHEMA aud;
	IMPORT FOREIGN SCHEMA s3db LIMIT TO (plg_audits) FROM SERVER store INTO aud;
});
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s %s %s %s %s', operation, "recordId", "userId" = current_user,
	                         coalesce("oldData"::jsonb::text, '-'), coalesce("newData"::jsonb::text, '-')), E'\n' ORDER BY "timestamp", operation DESC)
	  FROM aud.plg_audits}),
	join("\n",
		'insert u1 t - {"id": "u1", "age": 41, "name": "Ann", "tier": "gold"}',
		'update u1 t {"id": "u1", "age": 41, "name": "Ann", "tier": "gold"} {"id": "u1", "age": 42, "name": "Anne", "tier": "gold"}',
		'delete u1 t {"id": "u1", "age": 42, "name": "Anne", "tier": "gold"} -'),
	'one record per committed change, before and after as JSON; nothing for a rollback or another table');
is($node->safe_psql('postgres', q{
	SELECT bool_and(id ~ '^audit-[0-9]{13}-[0-9a-z]{9}$'), bool_and("resourceName" = 'users'),
	       bool_and("createdAt" = ("timestamp" AT TIME ZONE 'UTC')::date),
	       bool_and(partition = 'byTier'), bool_and("partitionValues"::jsonb ? 'byTier'),
	       bool_and(metadata = '{"source":"audit-plugin","version":"2.0"}')
	  FROM aud.plg_audits}),
	't|t|t|t|t|t', 'id, timestamps, partition and metadata as s3db.js writes them');
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE key LIKE 'resource=plg_audits/partition=byResource/resourceName=users/id=audit-%'),
	       count(*) FILTER (WHERE key ~ '^resource=plg_audits/partition=byDate/createdAt=\d{4}-\d\d-\d\d/id=audit-')
	  FROM s3db_list('store', 'resource=plg_audits/')}),
	'3|3', 'partition references byResource and byDate');
is($node->safe_psql('postgres', q{
	SELECT "newData"::jsonb->>'name' FROM aud.plg_audits
	 WHERE "resourceName" = 'users' AND operation = 'update'}),
	'Anne', 'partition pushdown on the audit resource');

# s3db.json: the resource as s3db.js's AuditPlugin defines it
my $cat = slurp_file("$bucket/s3db.json");
like($cat, qr/"plg_audits"/, 'plg_audits is in s3db.json');

SKIP:
{
	skip 'node or test/interop/node_modules not available', 2 unless $have_js;
	my $file = "$store/read.mjs";
	open(my $fh, '>', $file) or die;
	print $fh qq{
const { S3db, AuditPlugin } = await import('$s3dbjs');
const db = new S3db({ connectionString: 'file://$bucket', logLevel: 'silent' });
await db.connect();
const plugin = new AuditPlugin({});
await db.usePlugin(plugin);
const all = await db.resources.plg_audits.list();
all.sort((a, b) => a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : (a.operation < b.operation ? 1 : -1));
for (const a of all) {
  const d = (x) => x === undefined ? '-' : (typeof x === 'string' ? JSON.parse(x) : x).name;
  console.log([a.operation, a.recordId, a.resourceName, d(a.oldData), d(a.newData)].join(' '));
}
const byRes = await db.resources.plg_audits.listPartition({ partition: 'byResource',
  partitionValues: { resourceName: 'users' } });
console.log('byResource ' + byRes.length);
await db.disconnect();
};
	close $fh;
	my $out = `node $file 2>&1`;
	is($out, "insert u1 users - Ann\nupdate u1 users Ann Anne\ndelete u1 users Anne -\nbyResource 3\n",
		's3db.js reads the audit records, also through the byResource partition');
	my $cat2 = slurp_file("$bucket/s3db.json");
	ok($cat2 !~ /"plg_audits":\s*\{[^}]*"v2"/s, 's3db.js AuditPlugin adds no new version of plg_audits')
	  or diag($cat2);
}

$node->stop;
done_testing();
