# The s3db_fdw background worker on one cluster: it starts, shows in
# pg_stat_activity, becomes the leader of a file:// store, comes back after
# being terminated or killed, stops ticking when the coordinator is turned
# off by a reload, and opens and closes its circuit breaker while the store
# is unusable and after it returns.
use strict;
use warnings;

use File::Copy qw(move);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;
use Time::HiRes qw(time usleep);

my $LEASE_MS = 3000;

my $store = PostgreSQL::Test::Utils::tempdir();
my $bucket = "$store/bucket";
my $state = "$bucket/plugin=coordinator/namespace=s3db_fdw/state.json";

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.coordinator_server = 'coord'
s3db_fdw.lease_ms = $LEASE_MS
s3db_fdw.heartbeat_ms = 500
s3db_fdw.breaker_failures = 3
s3db_fdw.breaker_reset_ms = 1500
restart_after_crash = on
});
$node->start;

# ---- the worker runs and is visible ----
ok(defined wait_true($node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'", 10),
	'worker appears in pg_stat_activity');

$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE ROLE watcher LOGIN;
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
});

# no server yet: enabled, not leading, and it says why
ok(defined wait_true($node,
		"SELECT last_error LIKE '%server \"coord\" does not exist%' FROM s3db_coordinator()", 10),
	'a missing coordinator server is reported');

$node->safe_psql('postgres',
	"CREATE SERVER coord FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file://$bucket')");

# ---- leadership ----
my $took = wait_true($node, "SELECT is_leader FROM s3db_coordinator()", 15);
ok(defined $took && $took < 5, 'becomes leader of the file:// store within a few seconds')
  or diag("took " . ($took // 'forever'));
is(coord($node, "enabled, namespace, leader_id = worker_id, epoch >= 1, live_workers, "
	  . "breaker_state, lease_end > now(), last_error IS NULL"),
	't|s3db_fdw|t|t|1|closed|t|t', 'coordinator row of a leader');
ok(-f $state, 'state.json written under plugin=coordinator/namespace=s3db_fdw');
my $wid = coord($node, 'worker_id');
like($wid, qr/^pg-\d+-\d+$/, 'worker id is pg-<system id>-<pid>');
like(slurp_file($state), qr/"leaderId":"\Q$wid\E"/, 'the lease names the worker');

# the lease is renewed while it leads, the epoch stays
my $epoch = coord($node, 'epoch');
ok(defined wait_true($node,
		"SELECT renewals >= 3 AND ticks >= 4 AND latency_p50_ms IS NOT NULL "
		  . "AND latency_p99_ms >= latency_p50_ms FROM s3db_coordinator_metrics()", 10),
	'metrics count renewals, ticks and latencies');
usleep(1_500_000);
is(coord($node, 'is_leader, epoch'), "t|$epoch", 'renewal keeps leadership and epoch');
is($node->safe_psql('postgres', 'SELECT elections_won, failures FROM s3db_coordinator_metrics()'),
	'1|0', 'one election won, no failures');

# any user can read the status from shared memory; the worker list is
# read from the store with the coordinator server owner's mapping, so it is
# for pg_monitor (and superusers), like pg_buffercache
is($node->safe_psql('postgres',
		"SET ROLE watcher; SELECT is_leader FROM s3db_coordinator(); "
		  . "SELECT count(*) FROM s3db_coordinator_metrics()"),
	"t\n1", 'status readable by an unprivileged role');
my ($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE watcher; SELECT count(*) FROM s3db_coordinator_workers()");
ok($rc != 0 && $err =~ /permission denied for function s3db_coordinator_workers/,
	's3db_coordinator_workers() is refused to an unprivileged role')
  or diag("rc $rc: $out $err");
is($node->safe_psql('postgres',
		"SET ROLE monitor; SELECT string_agg(worker_id, ',') = '$wid', "
		  . "bool_and(last_heartbeat > now() - interval '5 s') FROM s3db_coordinator_workers()"),
	't|t', 's3db_coordinator_workers() lists the live worker to a pg_monitor member');

# ---- pg_terminate_backend: resigns, restarts, leads again ----
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok(defined wait_true($node, "SELECT NOT enabled FROM s3db_coordinator()", 5),
	'terminated worker shows as not running');
like(slurp_file($state), qr/"leaderId":null/, 'the terminated worker resigned its lease');
$took = wait_true($node,
	"SELECT is_leader AND worker_id <> '$wid' FROM s3db_coordinator()", 20);
ok(defined $took, 'restarted worker leads again') or diag('never led again');
is(coord($node, 'epoch'), $epoch + 1, 'the new leadership has the next epoch');

# ---- SIGKILL: crash restart, the new worker waits out the old lease ----
$wid = coord($node, 'worker_id');
$pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'");
kill 'KILL', $pid;
usleep(500_000);
my $back = 0;
for (1 .. 100)
{
	my ($rc, $out) = $node->psql('postgres',
		"SELECT is_leader AND worker_id <> '$wid' FROM s3db_coordinator()");
	if ($rc == 0 && $out eq 't') { $back = 1; last; }
	usleep(250_000);
}
ok($back, 'killed worker is restarted and leads again');
like(slurp_file($state), qr/"leaderId":"pg-/, 'the lease has a leader again');

# ---- circuit breaker: the store path becomes a file ----
move($bucket, "$bucket.away") or die "move: $!";
open(my $fh, '>', $bucket) or die "open: $!";
close $fh;
ok(defined wait_true($node, "SELECT breaker_state = 'open' FROM s3db_coordinator()", 10),
	'breaker opens while the store is unusable');
is($node->safe_psql('postgres',
		"SELECT last_error IS NOT NULL, (SELECT failures >= 3 AND breaker_trips >= 1 "
		  . "FROM s3db_coordinator_metrics()) FROM s3db_coordinator()"),
	't|t', 'failures and breaker trip counted, last error shown');
ok(defined wait_true($node, "SELECT NOT is_leader FROM s3db_coordinator()", 2 * $LEASE_MS / 1000 + 2),
	'leadership lapses with the lease while the store is gone');
unlike($node->safe_psql('postgres', 'SELECT last_error FROM s3db_coordinator()'),
	qr/secret|password/i, 'errors carry no credentials');
ok(defined wait_true($node, "SELECT skipped > 0 FROM s3db_coordinator_metrics()", 5),
	'the open breaker skips ticks');

unlink $bucket or die "unlink: $!";
move("$bucket.away", $bucket) or die "move: $!";
ok(defined wait_true($node,
		"SELECT breaker_state = 'closed' AND is_leader AND last_error IS NULL FROM s3db_coordinator()",
		10),
	'breaker closes and leadership returns once the store is back');

# ---- SIGHUP with the coordinator off: no more ticks, lease resigned ----
$node->safe_psql('postgres',
	"ALTER SYSTEM SET s3db_fdw.coordinator_server = ''; SELECT pg_reload_conf()");
ok(defined wait_true($node, "SELECT NOT enabled FROM s3db_coordinator()", 5),
	'reload with an empty coordinator_server disables the coordinator');
my $tick = coord($node, 'last_tick');
usleep(1_500_000);
is(coord($node, 'last_tick'), $tick, 'no ticks while disabled');
like(slurp_file($state), qr/"leaderId":null/, 'the lease was given up on disabling');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker' "
		  . "AND query = 'coordinator disabled'"),
	'1', 'the idle worker says it is disabled');

$node->safe_psql('postgres',
	"ALTER SYSTEM RESET s3db_fdw.coordinator_server; SELECT pg_reload_conf()");
ok(defined wait_true($node, "SELECT enabled AND is_leader FROM s3db_coordinator()", 10),
	're-enabled coordinator leads again');

# ---- ALTER SERVER: the store is reopened where the server now points ----
my $other = "$store/other";
$node->safe_psql('postgres',
	"ALTER SERVER coord OPTIONS (SET connection_string 'file://$other')");
my $t0 = time;
my $moved = 0;
while (time - $t0 < 10)
{
	if (-f "$other/plugin=coordinator/namespace=s3db_fdw/state.json"
		&& coord($node, 'is_leader') eq 't')
	{
		$moved = 1;
		last;
	}
	usleep(100_000);
}
ok($moved, 'a changed server option moves the coordinator to the new store');
like(slurp_file($state), qr/"leaderId":null/, 'the old store was resigned');

$node->stop;
like(slurp_file($node->logfile), qr/s3db_fdw worker pg-\d+-\d+ stopped/, 'worker stops cleanly at shutdown');

done_testing();
