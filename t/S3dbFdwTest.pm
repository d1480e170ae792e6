# Helpers shared by the TAP tests of s3db_fdw (t/*.pl).
package S3dbFdwTest;

use strict;
use warnings;

use Exporter 'import';
use Time::HiRes qw(time usleep);

our @EXPORT = qw(wait_true coord);

# Poll $sql on $node until it returns 't': the seconds it took (always a
# true value), or undef after $timeout seconds.
sub wait_true
{
	my ($node, $sql, $timeout) = @_;
	my $t0 = time;
	while (time - $t0 < $timeout)
	{
		if ($node->safe_psql('postgres', $sql) eq 't')
		{
			my $dt = time - $t0;
			return $dt > 0 ? $dt : 1e-6;
		}
		usleep(100_000);
	}
	return undef;
}

# Columns of s3db_coordinator() on $node.
sub coord
{
	my ($node, $cols) = @_;
	return $node->safe_psql('postgres', "SELECT $cols FROM s3db_coordinator()");
}

1;
