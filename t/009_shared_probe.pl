# Store probes shared between backends: with s3db_fdw preloaded, the first
# backend that writes to a store probes it and later backends adopt that
# result instead of asking again; s3db_check_store() probes afresh and
# replaces it; a user mapping or option that changes where the store is or
# what a write needs gets its own probe; results are per database.  Runs as
# an application role (a file:// store needs the server-files roles).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;

my $store = PostgreSQL::Test::Utils::tempdir() . '/bucket';
my $other = PostgreSQL::Test::Utils::tempdir() . '/other';

my $node = PostgreSQL::Test::Cluster->new('shared_probe');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 's3db_fdw'\n");
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE ROLE app;
	GRANT pg_read_server_files, pg_write_server_files TO app;    -- a file:// store
	GRANT CREATE ON SCHEMA public TO app;
	CREATE SERVER s FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file://$store');
	GRANT USAGE ON FOREIGN SERVER s TO app;
	CREATE USER MAPPING FOR app SERVER s;
	CREATE DATABASE second;
});
$node->safe_psql('second', 'CREATE EXTENSION s3db_fdw');

# every call is a new session, so a new backend with no connection yet
sub app { return $node->safe_psql($_[1] // 'postgres', "SET ROLE app; $_[0]"); }

my $checks = "SELECT server || '|' || conditions_honoured || '|' || metadata_wanted || '|' "
  . "|| metadata_accepted FROM s3db_store_checks()";
is(app($checks), '', 'nothing checked before the first write');

app("CREATE FOREIGN TABLE t (id text, n int) SERVER s OPTIONS (resource 't');
     SELECT s3db_create_resource('t')");
is(app($checks), 's|true|2047|2047', 'the first conditional write (the catalog) probed and shared');
my $first = app("SELECT checked_at FROM s3db_store_checks()");

for my $i (1 .. 5)
{
	app("INSERT INTO t VALUES ('r$i', $i)");
}
is(app("SELECT count(*) FROM t"), '5', 'five backends wrote');
is(app("SELECT checked_at FROM s3db_store_checks()"), $first,
	'none of them probed again: each adopted the shared result');

app("SELECT count(*) FROM s3db_check_store('s')");
my $forced = app("SELECT checked_at FROM s3db_store_checks()");
is(app("SELECT count(*) FROM s3db_store_checks()"), '1', 's3db_check_store() replaced the entry');
ok($forced gt $first, 's3db_check_store() probed afresh');

$node->safe_psql('postgres', "ALTER SERVER s OPTIONS (ADD metadata_limit '1024')");
app("INSERT INTO t VALUES ('r6', 6)");
is(app("SELECT string_agg(metadata_wanted::text, ',' ORDER BY metadata_wanted) FROM s3db_store_checks()"),
	'1024,2047', 'another metadata_limit is another question, probed on its own');

$node->safe_psql('postgres', "CREATE USER MAPPING FOR postgres SERVER s OPTIONS (connection_string 'file://$other')");
$node->safe_psql('postgres', "CREATE FOREIGN TABLE t2 (id text, n int) SERVER s OPTIONS (resource 't2');
	SELECT s3db_create_resource('t2')");
is($node->safe_psql('postgres', "SELECT count(*) FROM s3db_store_checks()"), '3',
	'a user mapping that points elsewhere has its own entry');

is(app($checks, 'second'), '', 'another database sees none of them');

$node->stop;

# without preloading nothing is shared, and writes probe for themselves
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->start;
app("INSERT INTO t VALUES ('r7', 7)");
is(app("SELECT count(*) FROM s3db_store_checks()"), '0', 'not preloaded: nothing is shared');
is(app("SELECT count(*) FROM t"), '7', 'and writes still go');

done_testing();
