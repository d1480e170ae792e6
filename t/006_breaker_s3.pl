# The coordinator on an S3 store whose server goes away: the S3 test server
# (s3rver behind the signature-checking proxy, test/s3/start.sh) is stopped
# while the worker leads, the circuit breaker opens after the configured
# number of failed ticks, the last error names the store and carries no
# credential, leadership lapses with the lease; the server is started again
# on the same ports and the breaker half-opens, closes, and the worker
# leads again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;
use Time::HiRes qw(time usleep);

my $LEASE_MS = 3000;
my $src = $ENV{S3DB_FDW_SRC} or plan skip_all => 'S3DB_FDW_SRC (the source tree) is not set';

# ---- the S3 test server ----
my $s3dir = PostgreSQL::Test::Utils::tempdir();

sub s3_start
{
	my ($ports) = @_;
	local $ENV{S3DB_TEST_S3_PORTS} = $ports // '';
	system("$src/test/s3/start.sh", $s3dir) == 0 or die "could not start the S3 test server";
	my %env = slurp_file("$s3dir/env") =~ /^(\w+)="?(.*?)"?$/mg;
	return \%env;
}

sub s3_stop { system("$src/test/s3/stop.sh", $s3dir); }

my $env = s3_start();
my ($s3port) = $env->{S3DB_TEST_S3_DIRECT_URL} =~ /:(\d+)\//;
my ($pport) = $env->{S3DB_TEST_S3_URL} =~ /:(\d+)\//;
END { s3_stop() if defined $s3dir && -f "$s3dir/env"; }

my $node = PostgreSQL::Test::Cluster->new('breaker');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.coordinator_server = 'coord'
s3db_fdw.lease_ms = $LEASE_MS
s3db_fdw.heartbeat_ms = 500
s3db_fdw.breaker_failures = 3
s3db_fdw.breaker_reset_ms = 1500
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE SERVER coord FOREIGN DATA WRAPPER s3db_fdw
	  OPTIONS (connection_string 'http://127.0.0.1:$pport/s3db-test/breaker',
	           max_retries '1', connect_timeout '500', request_timeout '2000');
	CREATE USER MAPPING FOR CURRENT_USER SERVER coord
	  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
});

ok(defined wait_true($node, "SELECT is_leader AND breaker_state = 'closed' FROM s3db_coordinator()", 15),
	'leads on the S3 store');
my $trips0 = $node->safe_psql('postgres', 'SELECT breaker_trips FROM s3db_coordinator_metrics()');

# ---- the server goes away ----
s3_stop();
ok(defined wait_true($node, "SELECT breaker_state = 'open' FROM s3db_coordinator()", 15),
	'the breaker opens while the S3 server is down');
my $err = $node->safe_psql('postgres', 'SELECT last_error FROM s3db_coordinator()');
like($err, qr/127\.0\.0\.1:$pport|connect/i, 'the last error names the unreachable store');
unlike($err, qr/S3RVER/, 'and carries no credential');
is($node->safe_psql('postgres',
		"SELECT failures >= 3 AND breaker_trips > $trips0 FROM s3db_coordinator_metrics()"),
	't', 'failures and the trip are counted');
ok(defined wait_true($node, "SELECT NOT is_leader FROM s3db_coordinator()", 2 * $LEASE_MS / 1000 + 3),
	'leadership lapses with the lease');
ok(defined wait_true($node, "SELECT skipped > 0 FROM s3db_coordinator_metrics()", 5),
	'the open breaker skips ticks instead of hammering the store');

# ---- the server returns on the same ports ----
s3_start("$s3port $pport");
my $took = wait_true($node,
	"SELECT breaker_state = 'closed' AND is_leader AND last_error IS NULL FROM s3db_coordinator()", 20);
ok(defined $took, 'the breaker closes and leadership returns once the server is back')
  or diag($node->safe_psql('postgres', 'SELECT * FROM s3db_coordinator()'));

$node->stop;
done_testing();
