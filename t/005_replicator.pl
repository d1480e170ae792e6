# Replication of SQL writes on foreign tables: the outbox is filled in the
# writing transaction and the background worker delivers it to a webhook
# (a local receiver, t/webhook_receiver.py), to a local table and to an
# SQS-shaped endpoint (the same receiver, checking the SigV4 signature).
# A rolled-back write is never delivered; a receiver that is down and comes
# back, refusals, and a worker terminated mid-way lose nothing and keep the
# order of each record's changes; a failing target does not hold back the
# others.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex hmac_sha256 hmac_sha256_hex);
use File::Basename qw(dirname);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;
use Time::HiRes qw(time usleep);

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $log = "$tmp/hook.jsonl";
my $receiver_py = dirname(__FILE__) . '/webhook_receiver.py';

# ---- the receiver ----
my $receiver;
my $port;

sub start_receiver
{
	my @args = ('python3', $receiver_py, '--log', $log, '--port-file', "$tmp/port");
	push @args, '--port', $port if defined $port;
	unlink "$tmp/port";
	$receiver = IPC::Run::start(\@args, '<', \undef, '>', "$tmp/receiver.out", '2>', "$tmp/receiver.err");
	for (1 .. 100)
	{
		last if -s "$tmp/port";
		usleep(50_000);
	}
	die "receiver did not start" unless -s "$tmp/port";
	$port = slurp_file("$tmp/port");
}

sub stop_receiver
{
	$receiver->kill_kill;
	$receiver->finish;
}

sub control
{
	my ($path) = @_;
	my $out = `python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())" http://127.0.0.1:$port$path`;
	chomp $out;
	return $out;
}

# every logged delivery, decoded
sub received
{
	return () unless -f $log;
	return map { decode_json($_) } grep { /\S/ } split /\n/, slurp_file($log);
}

start_receiver();

my $node = PostgreSQL::Test::Cluster->new('repl');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 's3db_fdw'\n");
$node->start;

$node->safe_psql('postgres', qq{
	CREATE EXTENSION s3db_fdw;
	CREATE SERVER store FOREIGN DATA WRAPPER s3db_fdw
	  OPTIONS (connection_string 'file://$tmp/bucket');
	CREATE FOREIGN TABLE users (id text, name text, n bigint) SERVER store OPTIONS (resource 'users');
	SELECT s3db_create_resource('users');
	CREATE FOREIGN TABLE notes (id text, body text) SERVER store OPTIONS (resource 'notes');
	SELECT s3db_create_resource('notes');
	CREATE TABLE users_copy (id text PRIMARY KEY, name text, n bigint, extra text DEFAULT 'kept');
});

# ---- no target: nothing is captured ----
$node->safe_psql('postgres', "INSERT INTO users VALUES ('u0', 'Zero', 0)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM s3db_fdw_replication_outbox'),
	'0', 'without targets nothing enters the outbox');

$node->safe_psql('postgres', qq{
	INSERT INTO s3db_fdw_replication_targets (name, kind, target, options, filter) VALUES
	  ('hook', 'webhook', 'http://127.0.0.1:$port/hook',
	   '{"backoff_ms": 100, "max_backoff_ms": 400, "auth": {"type": "bearer", "token": "tok"},
	     "headers": {"X-Env": "test"}}', NULL),
	  ('copy', 'table', 'public.users_copy', '{"backoff_ms": 100}', ARRAY['users'::regclass]);
});

# ---- insert, update, delete reach the webhook and the table ----
$node->safe_psql('postgres', "INSERT INTO users VALUES ('u1', 'Ann', 1), ('u2', 'Bob', 2)");
$node->safe_psql('postgres', "UPDATE users SET n = 10 WHERE id = 'u1'");
$node->safe_psql('postgres', "DELETE FROM users WHERE id = 'u2'");
$node->safe_psql('postgres', "INSERT INTO notes VALUES ('x1', 'hello')");
ok(wait_true($node, "SELECT sum(pending) = 0 FROM s3db_replication_status", 15),
	'the worker delivers everything without being asked');

my @r = received();
is(scalar(@r), 5, 'five changes posted to the webhook');
my ($ins) = grep { $_->{body}{action} eq 'insert' && $_->{body}{data}{id} eq 'u1' } @r;
is_deeply([ map { $ins->{body}{$_} } qw(resource source) ], [ 'users', 's3db-webhook-replicator' ],
	'envelope resource and source');
is_deeply($ins->{body}{data}, { id => 'u1', name => 'Ann', n => 1 }, 'insert data is the record');
like($ins->{body}{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO timestamp');
ok(!exists $ins->{body}{before}, 'an insert carries no before');
is_deeply([ @{ $ins->{headers} }{qw(content-type user-agent authorization x-env)} ],
	[ 'application/json', 's3db-webhook-replicator', 'Bearer tok', 'test' ],
	'content type, user agent, auth and custom headers');
like($ins->{headers}{'idempotency-key'}, qr/^s3db-\d+$/, 'idempotency key');
my ($upd) = grep { $_->{body}{action} eq 'update' } @r;
is_deeply([ $upd->{body}{before}{n}, $upd->{body}{data}{n}, $upd->{body}{data}{name} ], [ 1, 10, 'Ann' ],
	'update carries the old and the new record');
is($upd->{headers}{'x-s3db-record-seq'}, '2', 'second change of u1');
my ($del) = grep { $_->{body}{action} eq 'delete' } @r;
is($del->{body}{data}{id}, 'u2', 'delete names the record');
is($node->safe_psql('postgres', 'SELECT id, name, n, extra FROM users_copy ORDER BY id'),
	'u1|Ann|10|kept', 'the table target holds the current state (filter: users only)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM s3db_fdw_replication_outbox'),
	'0', 'delivered changes leave the outbox');
is($node->safe_psql('postgres', "SELECT delivered FROM s3db_replication_status WHERE target = 'hook'"),
	'5', 'status counts deliveries');

# ---- a rolled-back write is never delivered ----
$node->safe_psql('postgres', "BEGIN; INSERT INTO users VALUES ('ghost', 'Boo', 0); ROLLBACK;");
my ($rc, $out, $err) = $node->psql('postgres',
	"BEGIN; INSERT INTO users VALUES ('ghost2', 'Boo', 0); SELECT s3db_replicate_now(); ROLLBACK;");
like($err, qr/cannot deliver replication changes in a transaction that made some/,
	'no delivery from the transaction that wrote');
$node->safe_psql('postgres', 'SELECT s3db_replicate_now()');
is($node->safe_psql('postgres', "SELECT count(*) FROM s3db_fdw_replication_outbox"), '0',
	'rolled-back writes left nothing in the outbox');
ok(!grep({ $_->{body}{data}{id} =~ /ghost/ } received()), 'rolled-back writes never reach the webhook');
is($node->safe_psql('postgres', "SELECT count(*) FROM users_copy WHERE id LIKE 'ghost%'"), '0',
	'nor the table');

# ---- the receiver goes down, writes go on, the receiver comes back ----
stop_receiver();
my %expect;
for my $round (1 .. 4)
{
	for my $k (1 .. 5)
	{
		$node->safe_psql('postgres', $round == 1
			? "INSERT INTO users VALUES ('r$k', 'v$round', $round)"
			: "UPDATE users SET name = 'v$round', n = $round WHERE id = 'r$k'");
	}
}
ok(wait_true($node,
		"SELECT failures > 0 AND last_error LIKE '%request failed%' AND pending = 20 "
		  . "FROM s3db_replication_status WHERE target = 'hook'", 10),
	'a down receiver shows as failures, last error and pending changes');
ok(wait_true($node,
		"SELECT pending = 0 AND failures = 0 FROM s3db_replication_status WHERE target = 'copy'", 10),
	'the failing webhook does not hold back the table target');
is($node->safe_psql('postgres', "SELECT string_agg(id || '=' || name || '/' || n, ',' ORDER BY id) "
	  . "FROM users_copy WHERE id LIKE 'r%'"),
	'r1=v4/4,r2=v4/4,r3=v4/4,r4=v4/4,r5=v4/4', 'table target has the final states');
start_receiver();
control('/_fail?n=3&status=503');
ok(wait_true($node, "SELECT pending = 0 FROM s3db_replication_status WHERE target = 'hook'", 20),
	'everything delivered once the receiver is back (after 3 refusals)');

sub check_order
{
	my ($label, @ids) = @_;
	my %seqs;
	my %last;
	for my $e (received())
	{
		my $id = $e->{body}{data}{id};
		next unless grep { $_ eq $id } @ids;
		push @{ $seqs{$id} }, $e->{headers}{'x-s3db-record-seq'};
		$last{$id} = $e->{body}{data};
	}
	my $ok = 1;
	for my $id (@ids)
	{
		my @s = @{ $seqs{$id} || [] };
		my %seen = map { $_ => 1 } @s;
		for my $i (1 .. $#s) { $ok = 0 if $s[$i] < $s[ $i - 1 ]; }
		my $max = $s[-1] // 0;
		$ok = 0 unless scalar(keys %seen) == $max;    # none lost
		my $final = $node->safe_psql('postgres', "SELECT name || '/' || n FROM users WHERE id = '$id'");
		$ok = 0 unless defined $last{$id} && "$last{$id}{name}/$last{$id}{n}" eq $final;
		diag("$id: seqs @s, final $final") unless $ok;
	}
	ok($ok, $label);
}
check_order('in order per record, none lost, final state right', map { "r$_" } 1 .. 5);

# ---- the worker terminated in the middle of a backlog ----
$node->safe_psql('postgres',
	"UPDATE s3db_fdw_replication_targets SET options = options || '{\"batch_size\": 5}' WHERE name = 'hook'");
for my $round (5 .. 10)
{
	$node->safe_psql('postgres',
		"UPDATE users SET name = 'v$round', n = $round WHERE id IN ('r1','r2','r3','r4','r5')");
}
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok(wait_true($node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker' AND pid <> $pid",
		15), 'the worker comes back');
ok(wait_true($node, "SELECT sum(pending) = 0 FROM s3db_replication_status", 20),
	'the backlog is delivered after the restart');
check_order('after the restart: in order per record, none lost', map { "r$_" } 1 .. 5);

# ---- SQS: SendMessage signed with SigV4 (sent to the local receiver) ----
$node->safe_psql('postgres', qq{
	UPDATE s3db_fdw_replication_targets SET enabled = false WHERE name IN ('hook', 'copy');
	INSERT INTO s3db_fdw_replication_targets (name, kind, target, options, filter) VALUES
	  ('queue', 'sqs', 'http://127.0.0.1:$port/123456789012/changes.fifo',
	   '{"region": "eu-west-1", "access_key_id": "AKIDEXAMPLE",
	     "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	     "message_group_id": "g1", "deduplication_id": true}', ARRAY['notes'::regclass]);
});
my $before = scalar(received());
$node->safe_psql('postgres', "UPDATE notes SET body = 'hi & bye' WHERE id = 'x1'");
ok(wait_true($node, "SELECT pending = 0 AND delivered = 1 FROM s3db_replication_status WHERE target = 'queue'", 15),
	'the SQS change is delivered');
my ($sqs) = (received())[$before];
my $body = $sqs->{body}{unparsable} // '';
my %form = map { my ($k, $v) = split /=/, $_, 2; $v =~ s/%([0-9A-F]{2})/chr(hex($1))/ge; ($k => $v) }
  split /&/, $body;
is_deeply([ @form{qw(Action Version MessageGroupId MessageDeduplicationId)} ],
	[ 'SendMessage', '2012-11-05', 'g1', 'notes:update:x1:2' ], 'SendMessage parameters');
my $msg = decode_json($form{MessageBody});
# every attribute was set, so the old record was never read: before is null
is_deeply([ $msg->{source}, $msg->{action}, $msg->{data}{body}, exists $msg->{before}, $msg->{before} ],
	[ 's3db-replicator', 'update', 'hi & bye', 1, undef ], 'MessageBody is the envelope');

# the signature, recomputed here from what was received
my $h = $sqs->{headers};
my $date = $h->{'x-amz-date'};
my $canonical = join("\n", 'POST', '/123456789012/changes.fifo', '',
	"content-type:$h->{'content-type'}", "host:127.0.0.1:$port", "x-amz-date:$date", '',
	'content-type;host;x-amz-date', sha256_hex($body));
my $scope = substr($date, 0, 8) . '/eu-west-1/sqs/aws4_request';
my $sts = join("\n", 'AWS4-HMAC-SHA256', $date, $scope, sha256_hex($canonical));
my $k = hmac_sha256(substr($date, 0, 8), 'AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
$k = hmac_sha256('eu-west-1', $k);
$k = hmac_sha256('sqs', $k);
$k = hmac_sha256('aws4_request', $k);
is($h->{authorization},
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/$scope, SignedHeaders=content-type;host;x-amz-date, "
	  . 'Signature=' . hmac_sha256_hex($sts, $k),
	'the SigV4 signature verifies');
my $seq = $node->safe_psql('postgres', "SELECT max(seq) FROM s3db_fdw_replication_outbox");
is($seq, '', 'outbox empty again');

# ---- status shows a broken target; others still deliver ----
$node->safe_psql('postgres', qq{
	INSERT INTO s3db_fdw_replication_targets (name, kind, target, options, filter) VALUES
	  ('broken', 'table', 'no_such_table', '{"backoff_ms": 100}', ARRAY['notes'::regclass]);
	UPDATE notes SET body = 'again' WHERE id = 'x1';
});
ok(wait_true($node, "SELECT pending = 1 AND last_error LIKE '%no_such_table%' AND next_attempt IS NOT NULL "
	  . "FROM s3db_replication_status WHERE target = 'broken'", 10),
	'a broken target shows its error and next attempt');
ok(wait_true($node, "SELECT pending = 0 AND delivered = 2 FROM s3db_replication_status WHERE target = 'queue'", 10),
	'the broken target does not block the queue');

# ---- s3db: the changes applied to another store through its foreign table ----
$node->safe_psql('postgres', qq{
	CREATE SERVER mirror FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file://$tmp/mirror');
	CREATE FOREIGN TABLE mirror_users (id text, name text, n bigint) SERVER mirror OPTIONS (resource 'users');
	SELECT s3db_create_resource('mirror_users');
	INSERT INTO s3db_fdw_replication_targets (name, kind, target, options, filter) VALUES
	  ('mirror', 's3db', 'mirror', '{"backoff_ms": 100}', ARRAY['users'::regclass]);
});
$node->safe_psql('postgres', "INSERT INTO users VALUES ('m1', 'Mia', 1), ('m2', 'Max', 2)");
$node->safe_psql('postgres', "UPDATE users SET n = 11 WHERE id = 'm1'");
$node->safe_psql('postgres', "DELETE FROM users WHERE id = 'm2'");
ok(wait_true($node, "SELECT pending = 0 AND delivered = 4 FROM s3db_replication_status WHERE target = 'mirror'", 15),
	'the s3db target receives the changes');
is($node->safe_psql('postgres', 'SELECT id, name, n FROM mirror_users ORDER BY id'), 'm1|Mia|11',
	'the other store holds the current state');

# ---- TRUNCATE: a delete of every record, delivered to every target ----
$node->safe_psql('postgres', "UPDATE s3db_fdw_replication_targets SET enabled = true WHERE name = 'copy'");
$node->safe_psql('postgres', "BEGIN; TRUNCATE users; ROLLBACK;");
is($node->safe_psql('postgres', "SELECT count(*) FROM s3db_fdw_replication_outbox WHERE relname = 'users'"), '0',
	'a rolled-back TRUNCATE leaves nothing in the outbox');
my $nusers = $node->safe_psql('postgres', 'SELECT count(*) FROM users');
ok($nusers >= 7, "records before the TRUNCATE: $nusers");
$node->safe_psql('postgres', "BEGIN; INSERT INTO users VALUES ('t1', 'Tia', 1); TRUNCATE users; COMMIT;");
ok(wait_true($node, "SELECT sum(pending) = 0 FROM s3db_replication_status WHERE target IN ('copy', 'mirror')", 15),
	'the truncation is delivered');
is($node->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM mirror_users) || '/' "
		  . "|| (SELECT count(*) FROM users_copy)"),
	'0/0/0', 'the table, the other store and the table target are all empty');
is($node->safe_psql('postgres', "SELECT delivered FROM s3db_replication_status WHERE target = 'mirror'"),
	4 + $nusers + 2, 'the other store received an insert and a delete of t1 and a delete of every other record');

$node->stop;
stop_receiver();
done_testing();
