# One worker per database named in s3db_fdw.database: each connects to its
# database (one that does not exist yet is retried until it is created),
# shows in pg_stat_activity there, looks up the coordinator server and runs
# the plugin tasks of its own database, and reports in that database's
# s3db_coordinator().  Two workers of one cluster on one store are two
# candidates: exactly one leads.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;

my $store = PostgreSQL::Test::Utils::tempdir() . '/bucket';

my $node = PostgreSQL::Test::Cluster->new('databases');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.database = 'postgres, second, postgres'
s3db_fdw.coordinator_server = 'coord'
s3db_fdw.lease_ms = 3000
s3db_fdw.heartbeat_ms = 300
});
$node->start;

ok(defined wait_true($node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker' "
		  . "AND datname = 'postgres'", 10),
	'the worker of the existing database runs (a repeated name counts once)');
$node->safe_psql('postgres', 'CREATE DATABASE second');
ok(defined wait_true($node,
		"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'", 20),
	'the worker of the database created later connects once it exists');
is($node->safe_psql('postgres',
		"SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_stat_activity "
		  . "WHERE backend_type = 's3db_fdw worker'"),
	'postgres,second', 'one worker in each database');

for my $db ('postgres', 'second')
{
	$node->safe_psql($db, qq{
		CREATE EXTENSION s3db_fdw;
		CREATE SERVER coord FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file://$store');
	});
}
for my $db ('postgres', 'second')
{
	my $t0 = time;
	my $ok = 0;
	while (time - $t0 < 15)
	{
		$ok = 1, last if $node->safe_psql($db,
			"SELECT enabled AND live_workers = 2 FROM s3db_coordinator()") eq 't';
		sleep 0.2;
	}
	ok($ok, "$db: its worker takes part, and sees both workers on the store");
}
my ($wa, $la) = split /\|/, $node->safe_psql('postgres', 'SELECT worker_id, is_leader FROM s3db_coordinator()');
my ($wb, $lb) = split /\|/, $node->safe_psql('second', 'SELECT worker_id, is_leader FROM s3db_coordinator()');
isnt($wa, $wb, 'each database shows its own worker');
is(join('', sort ($la, $lb)), 'ft', 'exactly one of the two leads');
is($node->safe_psql('postgres', 'SELECT leader_id FROM s3db_coordinator()'),
	$node->safe_psql('second', 'SELECT leader_id FROM s3db_coordinator()'),
	'both agree on the leader');

# a task of one database runs in that database only: the replicator of
# "second" delivers to a table of "second"
$node->safe_psql('second', qq{
	CREATE FOREIGN TABLE notes (id text, body text) SERVER coord OPTIONS (resource 'notes');
	SELECT s3db_create_resource('notes');
	CREATE TABLE notes_copy (id text PRIMARY KEY, body text);
	INSERT INTO s3db_fdw_replication_targets (name, kind, target, options)
	  VALUES ('copy', 'table', 'public.notes_copy', '{"backoff_ms": 100}');
	INSERT INTO notes VALUES ('n1', 'hello');
});
my $t0 = time;
my $copied = '';
while (time - $t0 < 15)
{
	$copied = $node->safe_psql('second', "SELECT body FROM notes_copy WHERE id = 'n1'");
	last if $copied eq 'hello';
	sleep 0.2;
}
is($copied, 'hello', "the worker of \"second\" delivers that database's changes");

$node->stop;
done_testing();
