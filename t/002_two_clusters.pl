# Two clusters whose workers coordinate on the same file:// store: exactly
# one leads, both agree on who, and when the leader's cluster goes away the
# other takes over within two lease periods, both after a clean shutdown
# (the leader resigns) and after a crash (the lease must run out).
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
my $LEASE_S = $LEASE_MS / 1000;

my $store = PostgreSQL::Test::Utils::tempdir();
my $bucket = "$store/bucket";

my @nodes;
for my $name ('alpha', 'beta')
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.coordinator_server = 'coord'
s3db_fdw.lease_ms = $LEASE_MS
s3db_fdw.heartbeat_ms = 500
});
	$node->start;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION s3db_fdw;
		CREATE SERVER coord FOREIGN DATA WRAPPER s3db_fdw
		  OPTIONS (connection_string 'file://$bucket');
	});
	push @nodes, $node;
}
my ($alpha, $beta) = @nodes;

# both see both workers, and one leader they agree on
for my $node (@nodes)
{
	ok(defined wait_true($node,
			"SELECT live_workers = 2 AND leader_id IS NOT NULL FROM s3db_coordinator()", 15),
		$node->name . ' sees two live workers and a leader');
}

# sample a few times: never two leaders, always the same one
my ($agree, $single) = (1, 1);
my $leader_id;
for (1 .. 8)
{
	my ($la, $ia) = split /\|/, coord($alpha, 'leader_id, is_leader');
	my ($lb, $ib) = split /\|/, coord($beta, 'leader_id, is_leader');
	$agree = 0 if $la ne $lb;
	$single = 0 if ($ia eq 't') + ($ib eq 't') != 1;
	$leader_id = $la;
	usleep(300_000);
}
ok($agree, 'both clusters name the same leader');
ok($single, 'exactly one cluster leads');

my ($leader, $follower) = coord($alpha, 'is_leader') eq 't' ? ($alpha, $beta) : ($beta, $alpha);
is(coord($leader, 'worker_id'), $leader_id, 'the leader is the worker both name');
is($follower->safe_psql('postgres',
		"SELECT count(*), bool_or(worker_id = '$leader_id') FROM s3db_coordinator_workers()"),
	'2|t', 's3db_coordinator_workers() on the follower lists both workers');
my $epoch = coord($follower, 'epoch');

# ---- clean shutdown of the leader's cluster: it resigns ----
$leader->stop('fast');
my $took = wait_true($follower, "SELECT is_leader FROM s3db_coordinator()", 4 * $LEASE_S);
ok(defined $took && $took <= 2 * $LEASE_S,
	'after a clean stop the other cluster leads within two lease periods')
  or diag('took ' . ($took // 'forever'));
cmp_ok(coord($follower, 'epoch'), '>', $epoch, 'the takeover has a higher epoch');

# the stopped cluster comes back as a follower
$leader->start;
ok(defined wait_true($leader,
		"SELECT NOT is_leader AND leader_id = (SELECT '"
		  . coord($follower, 'worker_id') . "') AND live_workers = 2 FROM s3db_coordinator()", 15),
	'the restarted cluster follows the new leader');
($leader, $follower) = ($follower, $leader);

# ---- crash of the leader's cluster: the lease has to run out ----
$epoch = coord($leader, 'epoch');
$leader->stop('immediate');
$took = wait_true($follower, "SELECT is_leader FROM s3db_coordinator()", 4 * $LEASE_S);
ok(defined $took && $took <= 2 * $LEASE_S,
	'after a crash the other cluster leads within two lease periods')
  or diag('took ' . ($took // 'forever'));
is(coord($follower, 'epoch'), $epoch + 1, 'the takeover bumps the epoch once');

$follower->stop;
done_testing();
