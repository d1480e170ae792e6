# The security boundary, tried as a hostile role would.  "mal" is a plain
# LOGIN role with USAGE on the foreign servers, a schema of its own, and
# the ownership of the database (so it may ALTER DATABASE ... SET); "spy"
# and "vic" are further application roles.  The extension lives in a
# schema of the superuser.  mal's functions, operators and triggers call
# mal.pwn(tag), which tries to gain rights (CREATE ROLE pwned_<tag>,
# ALTER ROLE mal SUPERUSER, SET ROLE to the bootstrap superuser) and notes
# as whom it ran in mal.calls.  After each attack: no pwned_* role, mal is
# no superuser, and mal's code ran as nobody but mal; data assertions show
# that nothing crossed the boundary.  The stores are on the S3 test server
# (test/s3/start.sh).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use S3dbFdwTest;
use Time::HiRes qw(time usleep);

my $src = $ENV{S3DB_FDW_SRC} or plan skip_all => 'S3DB_FDW_SRC (the source tree) is not set';

# The stores are on the S3 test server: a file:// store is for the roles
# that may read and write server files, which the hostile roles are not.
my $s3dir = PostgreSQL::Test::Utils::tempdir();
system("$src/test/s3/start.sh", $s3dir) == 0 or die "could not start the S3 test server";
END { system("$src/test/s3/stop.sh", $s3dir) if defined $s3dir && -f "$s3dir/env"; }
my %s3env = slurp_file("$s3dir/env") =~ /^(\w+)="?(.*?)"?$/mg;
my ($pport) = $s3env{S3DB_TEST_S3_URL} =~ /:(\d+)\//;
my $s3 = "http://127.0.0.1:$pport/s3db-test";

# the fixture store holds the "vault" resource, with a secret attribute
system('node', "$src/test/fixtures/upload.mjs", "$src/test/fixtures/store",
	"http://S3RVER:S3RVER\@127.0.0.1:$pport/s3db-test/attacker") == 0
  or die "could not upload the fixture store";

my $node = PostgreSQL::Test::Cluster->new('attacker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 's3db_fdw'
s3db_fdw.database = 'appdb'
});
$node->start;

# The superuser's sessions in appdb pin their own search_path: mal owns
# the database and will set one for everybody.
sub su
{
	my ($sql) = @_;
	return $node->safe_psql('appdb', "SET search_path = app, ext, pg_catalog;\n$sql");
}

# A statement as a role: (exit code, stdout, stderr).
sub as_role
{
	my ($role, $sql) = @_;
	my ($out, $err) = ('', '');
	my $rc = $node->psql('appdb', $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-U', $role ]);
	return ($rc, $out, $err);
}

sub as_ok
{
	my ($role, $sql, $what) = @_;
	my ($rc, $out, $err) = as_role($role, $sql);
	is($rc, 0, "$role: $what") or diag($err);
	return $out;
}

# Did any hostile code gain anything?  '' when not.
sub gained
{
	return $node->safe_psql('postgres', q{
		SELECT coalesce(string_agg(rolname || CASE WHEN rolsuper THEN '(superuser)' ELSE '' END, ','
		                           ORDER BY rolname), '')
		  FROM pg_roles
		 WHERE rolname LIKE 'pwned%' OR (rolname IN ('mal', 'spy', 'vic') AND (rolsuper OR rolcreaterole))});
}

# mal's code that ran as another role
sub ran_as_other
{
	return su(q{SELECT coalesce(string_agg(DISTINCT tag || ' as ' || usr, ', '), '')
	              FROM mal.calls WHERE usr <> 'mal'});
}

# Check, then undo whatever was gained, so that each attack is judged on
# its own (on code without the defences each one succeeds by itself).
sub no_gain
{
	my ($what) = @_;
	is(gained(), '', "$what: no role gained a privilege");
	is(ran_as_other(), '', "$what: mal's code ran as mal only");
	su(q{DELETE FROM mal.calls});
	$node->safe_psql('postgres', q{
		ALTER ROLE mal NOSUPERUSER NOCREATEROLE;
		DO $$ DECLARE r text; BEGIN
		  FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'pwned%' LOOP
		    EXECUTE format('DROP ROLE %I', r);
		  END LOOP;
		END $$;});
}

# The worker of appdb, restarted (it applies the database's settings
# when it connects); returns once a new one runs.
sub restart_worker
{
	my $old = su(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 's3db_fdw worker'});
	su(qq{SELECT pg_terminate_backend($old)});
	return wait_true($node, qq{SELECT EXISTS (SELECT 1 FROM pg_stat_activity
	                   WHERE backend_type = 's3db_fdw worker' AND datname = 'appdb' AND pid <> $old)}, 60);
}

# ---------------------------------------------------------------------
# Setup: the superuser and a DBA's grants
# ---------------------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE mal LOGIN;
	CREATE ROLE spy LOGIN;
	CREATE ROLE vic LOGIN;
	CREATE DATABASE appdb OWNER mal;
});
su(qq{
	CREATE SCHEMA ext;
	CREATE SCHEMA app;
	CREATE EXTENSION s3db_fdw SCHEMA ext;
	GRANT USAGE ON SCHEMA ext, app TO PUBLIC;
	CREATE SERVER store FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '$s3/attacker');
	CREATE USER MAPPING FOR PUBLIC SERVER store
	  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER', passphrase 'fixture-pass');
	CREATE SERVER mirror FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '$s3/attacker-mirror');
	CREATE USER MAPPING FOR PUBLIC SERVER mirror OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
	GRANT USAGE ON FOREIGN SERVER store, mirror TO mal, spy, vic;
	CREATE SCHEMA mal AUTHORIZATION mal;
	CREATE SCHEMA spy AUTHORIZATION spy;
	CREATE SCHEMA vic AUTHORIZATION vic;

	CREATE FOREIGN TABLE app.users (id text, name text, n bigint) SERVER store OPTIONS (resource 'users');
	SELECT ext.s3db_create_resource('app.users');
	CREATE TABLE app.users_copy (id text PRIMARY KEY, name text, n bigint);
	INSERT INTO app.users_copy VALUES ('k1', 'keep me', 1);
	CREATE FOREIGN TABLE app.sess (id text, v text) SERVER store OPTIONS (resource 'sess');
	SELECT ext.s3db_create_resource('app.sess');
	INSERT INTO ext.s3db_fdw_ttl (ftable, ttl) VALUES ('app.sess', '1 second');
	CREATE FOREIGN TABLE app.vault (id text, label text, secret text) SERVER store OPTIONS (resource 'vault');
	INSERT INTO ext.s3db_fdw_audit VALUES ('app.vault');
	-- webhooks nobody listens to (port 1): targets that exist and keep failing
	INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target, options, filter) VALUES
	  ('hook_all', 'webhook', 'http://127.0.0.1:1/', '{"backoff_ms": 100, "max_backoff_ms": 200}', NULL),
	  ('hook_f', 'webhook', 'http://127.0.0.1:1/', '{"backoff_ms": 100, "max_backoff_ms": 200}',
	   ARRAY['app.users'::regclass]);
});

# mal's arsenal: pwn() and operators and functions of the names the
# extension uses, all calling it
as_ok('mal', q{
	CREATE TABLE mal.calls (tag text, usr text);
	GRANT USAGE ON SCHEMA mal TO PUBLIC;
	GRANT SELECT, INSERT ON mal.calls TO PUBLIC;
	CREATE FUNCTION mal.pwn(tag text) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog AS $$
	BEGIN
	  BEGIN INSERT INTO mal.calls VALUES (tag, current_user); EXCEPTION WHEN OTHERS THEN NULL; END;
	  BEGIN EXECUTE format('CREATE ROLE %I', 'pwned_' || tag); EXCEPTION WHEN OTHERS THEN NULL; END;
	  BEGIN ALTER ROLE mal SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
	  BEGIN
	    EXECUTE format('SET ROLE %I', (SELECT rolname FROM pg_roles WHERE oid = 10));
	    EXECUTE format('CREATE ROLE %I', 'pwned_setrole_' || tag);
	    RESET ROLE;
	  EXCEPTION WHEN OTHERS THEN NULL;
	  END;
	  RETURN true;
	END $$;
	DO $$
	DECLARE
	  r record;
	  i int := 0;
	BEGIN
	  FOR r IN SELECT * FROM (VALUES
	    ('=', 'regclass', 'regclass', 'boolean', '$1::oid OPERATOR(pg_catalog.=) $2::oid'),
	    ('=', 'oid', 'oid', 'boolean', '$1 OPERATOR(pg_catalog.=) $2'),
	    ('=', 'text', 'text', 'boolean', '$1 OPERATOR(pg_catalog.=) $2'),
	    ('=', 'name', 'name', 'boolean', '$1 OPERATOR(pg_catalog.=) $2'),
	    ('<>', 'text', 'text', 'boolean', '$1 OPERATOR(pg_catalog.<>) $2'),
	    ('-', 'jsonb', 'text[]', 'jsonb', '$1 OPERATOR(pg_catalog.-) $2'),
	    ('||', 'jsonb', 'jsonb', 'jsonb', '$1 OPERATOR(pg_catalog.||) $2'),
	    ('?', 'jsonb', 'text', 'boolean', '$1 OPERATOR(pg_catalog.?) $2'),
	    ('>', 'timestamptz', 'timestamptz', 'boolean', '$1 OPERATOR(pg_catalog.>) $2'),
	    ('+', 'bigint', 'integer', 'bigint', '$1 OPERATOR(pg_catalog.+) $2')
	  ) v(op, l, r, ret, body)
	  LOOP
	    i := i + 1;
	    EXECUTE format('CREATE FUNCTION mal.op%s(%s, %s) RETURNS %s LANGUAGE plpgsql '
	                   'SET search_path = pg_catalog AS %L',
	                   i, r.l, r.r, r.ret,
	                   format('BEGIN PERFORM mal.pwn(%L); RETURN %s; END', 'op' || i, r.body));
	    EXECUTE format('CREATE OPERATOR mal.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = mal.op%s)',
	                   r.op, r.l, r.r, i);
	  END LOOP;
	END $$;
	CREATE FUNCTION mal.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql
	SET search_path = pg_catalog AS $$
	BEGIN PERFORM mal.pwn('clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
	CREATE FUNCTION mal.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql
	SET search_path = pg_catalog AS $$
	BEGIN PERFORM mal.pwn('jsonb_build_object'); RETURN pg_catalog.jsonb_build_object($1, $2); END $$;
	CREATE FUNCTION mal.trig() RETURNS trigger LANGUAGE plpgsql
	SET search_path = pg_catalog AS $$
	BEGIN PERFORM mal.pwn('trigger_' || TG_TABLE_NAME); RETURN NEW; END $$;
	CREATE FOREIGN TABLE mal.mine (id text, name text, n bigint) SERVER store OPTIONS (resource 'mine');
	SELECT ext.s3db_create_resource('mal.mine');
}, 'prepares its operators, functions and a foreign table of its own');

my $evil_path = 'SET search_path = mal, ext, pg_catalog;';

# Where writers had to be allowed to read the plugin configuration (before
# it was read as the extension owner), a DBA would have granted this; the
# attacks below must fail with it too.  Revoked again before section 7,
# which shows that writers need no such grant.
su(q{GRANT SELECT ON ext.s3db_fdw_ttl, ext.s3db_fdw_audit TO PUBLIC});

# ---------------------------------------------------------------------
# 1. Operators and functions in front of the capture's (issue 12 item 1)
# ---------------------------------------------------------------------
as_role('mal', qq{$evil_path
	INSERT INTO mal.mine VALUES ('m1', 'a', 1), ('m2', 'b', 2);
	UPDATE mal.mine SET n = n + 1 WHERE id = 'm1';
	DELETE FROM mal.mine WHERE id = 'm2';
	BEGIN; TRUNCATE mal.mine; COMMIT;
	INSERT INTO mal.mine VALUES ('m3', 'c', 3);});
no_gain('writes with mal\'s operators first in search_path');
is(su(q{SELECT count(*) FROM ext.s3db_fdw_replication_outbox WHERE relname = 'mine'}), '6',
	'the writes were captured all the same (insert 2, update, delete, truncate of m1, insert)');

# the same through a trigger that changes search_path in the statement
as_ok('mal', q{
	CREATE FUNCTION mal.set_path() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_catalog.set_config('search_path', 'mal, ext, pg_catalog', true); RETURN NEW; END $$;
	CREATE TRIGGER set_path BEFORE INSERT OR UPDATE ON mal.mine FOR EACH ROW EXECUTE FUNCTION mal.set_path();
	INSERT INTO mal.mine VALUES ('m4', 'd', 4);
	UPDATE mal.mine SET n = 5 WHERE id = 'm4';}, 'writes through a trigger that changes search_path');
no_gain('search_path changed by a trigger in the statement');

# through views: its own, and one of the superuser's it may write through
su(q{CREATE VIEW app.users_v AS SELECT * FROM app.users;
     GRANT SELECT, INSERT, UPDATE, DELETE ON app.users_v TO mal;});
as_ok('mal', qq{$evil_path
	CREATE VIEW mal.v AS SELECT * FROM mal.mine;
	INSERT INTO mal.v VALUES ('m5', 'e', 5);
	INSERT INTO app.users_v VALUES ('u-mal', 'via view', 1);
	UPDATE app.users_v SET n = 2 WHERE id = 'u-mal';}, 'writes through views');
no_gain('writes through views');

# through a SECURITY DEFINER function of the superuser that does not pin
# its own search_path
su(q{CREATE FUNCTION app.add_user(text) RETURNS void LANGUAGE sql SECURITY DEFINER
       AS $$ INSERT INTO app.users (id, name, n) VALUES ($1, 'via definer', 0) $$;
     REVOKE ALL ON FUNCTION app.add_user(text) FROM PUBLIC;
     GRANT EXECUTE ON FUNCTION app.add_user(text) TO mal;});
as_ok('mal', qq{$evil_path SELECT app.add_user('u-def');}, 'calls a SECURITY DEFINER writer');
no_gain('a SECURITY DEFINER caller');

# a column type of its own whose cast to json is its function: rows are
# turned into JSON for the outbox as the writer, never as the extension owner
as_ok('mal', q{
	CREATE TYPE mal.mood AS ENUM ('calm', 'angry');
	CREATE FUNCTION mal.mood_json(mal.mood) RETURNS json LANGUAGE plpgsql
	SET search_path = pg_catalog AS $$
	BEGIN PERFORM mal.pwn('cast_to_json'); RETURN to_json($1::text); END $$;
	CREATE CAST (mal.mood AS json) WITH FUNCTION mal.mood_json(mal.mood);
	CREATE FOREIGN TABLE mal.moods (id text, mood mal.mood) SERVER store OPTIONS (resource 'moods');
	SELECT ext.s3db_create_resource('mal.moods');
	INSERT INTO mal.moods VALUES ('x1', 'angry');
	UPDATE mal.moods SET mood = 'calm' WHERE id = 'x1';}, 'writes a table with a type cast to json by its own function');
is(su(q{SELECT string_agg(after->>'mood', ',' ORDER BY seq) FROM ext.s3db_fdw_replication_outbox WHERE relname = 'moods'}),
	'angry,calm', 'the documents were made through the cast');
is(su(q{SELECT string_agg(DISTINCT usr, ',') FROM mal.calls WHERE tag = 'cast_to_json'}), 'mal',
	'which ran, as mal');
no_gain('a cast to json of a column type');

# a rule that redirects its writes into a table it may not write
my ($rc, $out, $err) = as_role('mal', q{
	CREATE VIEW mal.rv AS SELECT id, name, n FROM mal.mine;
	CREATE RULE redirect AS ON INSERT TO mal.rv DO INSTEAD
	  INSERT INTO app.users VALUES (NEW.id, NEW.name, NEW.n);
	INSERT INTO mal.rv VALUES ('u-rule', 'by rule', 1);});
like($err, qr/permission denied/, 'a rule does not write where its owner may not');
is(su(q{SELECT count(*) FROM app.users WHERE id = 'u-rule'}), '0', 'nothing written by the rule');

# ALTER ... OWNER: it cannot hand its objects (or take others')
($rc, $out, $err) = as_role('mal', q{ALTER FOREIGN TABLE mal.mine OWNER TO vic});
isnt($rc, 0, 'mal cannot give its foreign table to another role');
($rc, $out, $err) = as_role('mal', q{ALTER TABLE ext.s3db_fdw_replication_targets OWNER TO mal});
isnt($rc, 0, 'nor take the configuration tables');

# ---------------------------------------------------------------------
# 2. The worker and the database's settings (item 2)
# ---------------------------------------------------------------------
as_ok('mal', q{ALTER DATABASE appdb SET search_path = mal, ext, pg_catalog},
	'the database owner shadows clock_timestamp for every new session');
ok(wait_true($node, q{SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                        WHERE backend_type = 's3db_fdw worker' AND datname = 'appdb')}, 60),
	'a worker serves appdb');
my $t0 = su('SELECT clock_timestamp()');
ok(restart_worker(), 'the worker is restarted');
# it has run delivery rounds since (the failing webhooks note their errors)
my $rounds = 0;
for (1 .. 300)
{
	$rounds = su(qq{SELECT count(*) FROM ext.s3db_fdw_replication_state
	                 WHERE target = 'hook_all' AND last_error_at > '$t0'});
	last if $rounds > 0;
	usleep(100_000);
}
ok($rounds > 0, 'the restarted worker ran delivery rounds');
su(q{ALTER DATABASE appdb RESET search_path});
ok(restart_worker(), 'the worker is restarted without the setting');
no_gain('the worker under ALTER DATABASE ... SET search_path');

# ---------------------------------------------------------------------
# 3. Triggers of a target's table (item 3)
# ---------------------------------------------------------------------
# the superuser replicates into a table of mal's (mal's service reads it)
as_ok('mal', q{
	CREATE TABLE mal.copy (id text PRIMARY KEY, name text, n bigint);
	CREATE TRIGGER t AFTER INSERT OR UPDATE ON mal.copy FOR EACH ROW EXECUTE FUNCTION mal.trig();},
	'owns a table with a trigger');
su(q{INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target, filter)
       VALUES ('to_mal', 'table', 'mal.copy', ARRAY['app.users'::regclass]);
     INSERT INTO app.users VALUES ('u1', 'Ann', 1);});
su(q{SELECT ext.s3db_replicate_now('to_mal')});
is(su(q{SELECT name FROM mal.copy WHERE id = 'u1'}), 'Ann', 'the table target received the change');
no_gain('a trigger on a table target');

# an s3db target: mal's foreign table of the same server and resource,
# created first, with a trigger
as_ok('mal', q{
	CREATE FOREIGN TABLE mal.mirror_users (id text, name text, n bigint)
	  SERVER mirror OPTIONS (resource 'users');
	SELECT ext.s3db_create_resource('mal.mirror_users');
	CREATE TRIGGER t BEFORE INSERT OR UPDATE OR DELETE ON mal.mirror_users
	  FOR EACH ROW EXECUTE FUNCTION mal.trig();}, 'owns a foreign table of the mirror server');
su(q{CREATE FOREIGN TABLE app.mirror_users (id text, name text, n bigint)
       SERVER mirror OPTIONS (resource 'users');
     INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target, filter)
       VALUES ('mirror', 's3db', 'mirror', ARRAY['app.users'::regclass]);
     INSERT INTO app.users VALUES ('u2', 'Bob', 2);});
su(q{SELECT ext.s3db_replicate_now('mirror')});
is(su(q{SELECT name FROM app.mirror_users WHERE id = 'u2'}), 'Bob', 'the s3db target received the change');
no_gain('someone else\'s foreign table on an s3db target');

# ---------------------------------------------------------------------
# 4. A table target without filter (item 4, the README's example)
# ---------------------------------------------------------------------
su(q{INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target)
       VALUES ('copy_all', 'table', 'app.users_copy');
     INSERT INTO app.users VALUES ('u3', 'Cid', 3);});
as_role('mal', q{INSERT INTO mal.mine VALUES ('k1', 'overwritten', 666), ('k9', 'planted', 9);
                 DELETE FROM mal.mine WHERE id = 'm3';});
su(q{SELECT ext.s3db_replicate_now('copy_all')});
is(su(q{SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM app.users_copy}),
	'k1:keep me,u3:Cid', 'mal\'s writes did not reach a table it may not write; the owner\'s did');

# a target of another role sees only what that role may read
su(q{GRANT SELECT, INSERT, UPDATE, DELETE ON ext.s3db_fdw_replication_targets TO spy});
as_ok('spy', q{INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target, filter)
  VALUES ('spyhook', 'webhook', 'http://127.0.0.1:1/', NULL),
         ('spyhook_f', 'webhook', 'http://127.0.0.1:1/', ARRAY['app.users'::regclass])},
	'configures webhooks of its own');
as_ok('vic', q{
	CREATE FOREIGN TABLE vic.private (id text, diary text) SERVER store OPTIONS (resource 'private');
	SELECT ext.s3db_create_resource('vic.private');
	INSERT INTO vic.private VALUES ('d1', 'dear diary');}, 'writes a table of its own');
su(q{INSERT INTO app.users VALUES ('u4', 'Dee', 4)});
is(su(q{SELECT count(*) FROM ext.s3db_fdw_replication_pending p
          JOIN ext.s3db_fdw_replication_outbox o USING (seq)
         WHERE p.target LIKE 'spyhook%'}), '0',
	'a target never receives changes of tables its owner may not read');
($rc, $out, $err) = as_role('spy', q{
	INSERT INTO ext.s3db_fdw_replication_targets (name, kind, target, owner)
	  VALUES ('as_super', 'table', 'app.users_copy', (SELECT oid FROM pg_roles WHERE oid = 10)::regrole)});
isnt($rc, 0, 'a role cannot make a target act as another role');
($rc, $out, $err) = as_role('spy', q{UPDATE ext.s3db_fdw_replication_targets SET owner = 'vic' WHERE name = 'spyhook'});
isnt($rc, 0, 'nor hand its target to another role');
is(as_ok('spy', q{SELECT string_agg(name, ',' ORDER BY name) FROM ext.s3db_fdw_replication_targets},
		'reads the targets'), 'spyhook,spyhook_f', 'and sees only its own targets');

su(q{REVOKE SELECT ON ext.s3db_fdw_ttl, ext.s3db_fdw_audit FROM PUBLIC});

# ---------------------------------------------------------------------
# 7. Secrets never leave their record in clear text (item 7)
# ---------------------------------------------------------------------
su(q{GRANT SELECT, INSERT, UPDATE, DELETE ON app.vault, app.sess TO vic;
     INSERT INTO app.vault VALUES ('v8', 'by owner', 'TOPSECRET-41');
     INSERT INTO app.sess VALUES ('s1', 'by owner');});
as_ok('vic', q{INSERT INTO app.vault VALUES ('v9', 'lbl', 'TOPSECRET-42');
               UPDATE app.vault SET label = 'lbl2' WHERE id = 'v9';
               INSERT INTO app.sess VALUES ('s2', 'x');},
	'an application role writes audited, TTL-managed and replicated tables with table grants only');
is(su(q{SELECT string_agg(secret, ',' ORDER BY id) FROM app.vault WHERE id IN ('v8', 'v9')}),
	'TOPSECRET-41,TOPSECRET-42', 'the secrets are stored and read back');
su(q{CREATE SCHEMA aud; IMPORT FOREIGN SCHEMA s3db LIMIT TO (plg_audits) FROM SERVER store INTO aud;});
is(su(q{SELECT count(*) || ' ' || count(*) FILTER (WHERE "userId" = 'vic')
               || ' ' || count(*) FILTER (WHERE coalesce("oldData", '') || coalesce("newData", '') LIKE '%TOPSECRET%')
          FROM aud.plg_audits WHERE "resourceName" = 'vault'}),
	'3 2 0', 'audit records name the writing role and hold no secret');
is(su(q{SELECT count(*) || ' ' || count(*) FILTER (WHERE coalesce(before::text, '') || coalesce(after::text, '') LIKE '%TOPSECRET%')
          FROM ext.s3db_fdw_replication_outbox WHERE relname = 'vault'}),
	'3 0', 'replication documents hold no secret');
my $clear = `grep -rl TOPSECRET $s3dir/data`;
is($clear, '', 'no object of the store holds the secret in clear text');

# ---------------------------------------------------------------------
# 8. TTL sweeps need the right to delete (item 8)
# ---------------------------------------------------------------------
sleep 3;    # s1 and s2 are due (TTL one second)
($rc, $out, $err) = as_role('mal', q{SELECT ext.s3db_ttl_sweep('app.sess')});
like($err, qr/permission denied/, 'mal may not sweep a table it may not delete from');
su(q{GRANT SELECT ON app.sess TO mal});
($rc, $out, $err) = as_role('mal', q{SELECT ext.s3db_ttl_sweep('app.sess')});
like($err, qr/permission denied/, 'not with SELECT alone either');
is(su(q{SELECT count(*) FROM app.sess}), '2', 'the refused sweeps deleted nothing');
is(as_ok('vic', q{SELECT ext.s3db_ttl_sweep('app.sess')}, 'vic may (it has DELETE)'), '2',
	'an allowed sweep expires the due records');

# configuration: a role the DBA lets configure TTL does so only for its tables
su(q{GRANT SELECT, INSERT ON ext.s3db_fdw_ttl, ext.s3db_fdw_audit TO mal});
($rc, $out, $err) = as_role('mal', q{INSERT INTO ext.s3db_fdw_ttl (ftable, ttl) VALUES ('app.users', '1 second')});
isnt($rc, 0, 'mal cannot put a TTL on a table of another role');
($rc, $out, $err) = as_role('mal', q{INSERT INTO ext.s3db_fdw_audit VALUES ('vic.private')});
isnt($rc, 0, 'nor audit one');
as_ok('mal', q{INSERT INTO ext.s3db_fdw_ttl (ftable, ttl) VALUES ('mal.mine', '1 hour')}, 'configures its own table');

# maintenance functions are not for everybody
for my $f ('ext.s3db_replicate_now()', q{ext.s3db_replication_sqs_request('hook_all', 1, now())})
{
	($rc, $out, $err) = as_role('mal', "SELECT * FROM $f");
	like($err, qr/permission denied/, "$f is not executable by PUBLIC");
}

# a target whose owner was dropped takes nothing and holds up no writer
su(q{DROP OWNED BY spy});
$node->safe_psql('postgres', q{DROP ROLE spy});
as_ok('vic', q{INSERT INTO vic.private VALUES ('d2', 'after the drop')}, 'writes after a target owner was dropped');
is(su(q{SELECT count(*) FROM ext.s3db_fdw_replication_pending WHERE target LIKE 'spyhook%'}), '0',
	'and the orphaned targets take nothing');
is(su(q{SELECT count(*) > 0 FROM ext.s3db_replication_status}), 't', 'the status view still reads');

no_gain('the whole run');

$node->stop;
done_testing();
