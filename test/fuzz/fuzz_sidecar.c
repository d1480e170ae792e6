/*-------------------------------------------------------------------------
 *
 * fuzz_sidecar.c
 *		libFuzzer target: the <object>.meta.json sidecars of file:// stores
 *		(fs_sidecar.c).
 *
 * A file:// directory may be shared with other writers, so its sidecars
 * are input like any other.  The input is written as the sidecar of an
 * object in a private temporary directory and read back with
 * fs_sidecar_read; a sidecar that reads must render again.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "store/fs_int.h"

static int	dirfd_ = -1;
static char dirname_[] = "/tmp/s3db-fuzz-sidecar-XXXXXX";

static void
cleanup(void)
{
	if (dirfd_ >= 0)
	{
		unlinkat(dirfd_, "o.meta.json", 0);
		close(dirfd_);
		rmdir(dirname_);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fs_sidecar	sc;
	char	   *doc;
	size_t		len = 0;
	int			fd;

	if (dirfd_ < 0)
	{
		if (mkdtemp(dirname_) == NULL ||
			(dirfd_ = open(dirname_, O_RDONLY | O_DIRECTORY)) < 0)
			abort();
		atexit(cleanup);
	}
	fd = openat(dirfd_, "o.meta.json", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t) size)
		abort();
	close(fd);

	if (fs_sidecar_read(dirfd_, "o", &sc) == S3S_OK)
	{
		FUZZ_ASSERT(sc.content_type != NULL);
		/* writers always pass an etag; a read sidecar may lack one */
		doc = fs_sidecar_render(&sc.meta, sc.content_type, sc.etag ? sc.etag : "",
								sc.last_modified,
								sc.size, &len);
		FUZZ_ASSERT(doc != NULL && strlen(doc) == len);
		free(doc);
		fs_sidecar_free(&sc);
	}
	return 0;
}
