#!/usr/bin/env bash
# A root of another Debian suite, made with mmdebstrap and entered with
# unshare --mount, for building and testing against what that suite ships
# (PostgreSQL 17 in trixie, 18 in forky; Ceph's radosgw).
#
#   tools/debroot.sh make DIR SUITE PKG...   make DIR unless it holds exactly
#                                            these packages already (cached)
#   tools/debroot.sh run DIR CMD...          run CMD inside DIR as root
#
# Inside, /proc, /dev and /sys are the host's, and /tmp, /work and the
# checkout are bind-mounted at the same paths, so scripts and scratch
# directories need no translation.  The mounts live in a private mount
# namespace and vanish with the command, pass or fail.  The network is the
# host's: servers inside listen on the host's loopback.
set -euo pipefail

MIRROR=${DEBROOT_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

cmd=${1:?usage: debroot.sh make|run DIR ...}; shift
dir=${1:?usage: debroot.sh make|run DIR ...}; shift

case "$cmd" in
make)
    suite=${1:?usage: debroot.sh make DIR SUITE PKG...}; shift
    want="$suite $(printf '%s\n' "$@" | sort | tr '\n' ' ')"
    if [ -f "$dir/.debroot" ] && [ "$(cat "$dir/.debroot")" = "$want" ]; then
        exit 0
    fi
    command -v mmdebstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; }
    }
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir.new"
    # policy-rc.d: postinst scripts must not try to start services;
    # Valid-Until: the mirror's testing/unstable Release files may be stale.
    inc=$(IFS=,; echo "$*")
    mmdebstrap --variant=apt --quiet \
        --aptopt='Acquire::Check-Valid-Until "false"' \
        --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
        --setup-hook='mkdir -p "$1/usr/sbin"; printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
        ${inc:+--include="$inc"} "$suite" "$dir.new" "$MIRROR" >&2
    echo "$want" > "$dir.new/.debroot"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
    ;;
run)
    [ -f "$dir/.debroot" ] || { echo "debroot.sh: $dir is not a root made by 'debroot.sh make'" >&2; exit 1; }
    top=$(cd "$(dirname "$0")/.." && pwd)
    binds=(/tmp /work "$top" ${DEBROOT_BINDS:-})
    exec unshare --mount --propagation private /bin/bash -c '
        set -e
        root=$1; shift
        n=$1; shift
        mount --rbind /dev "$root/dev"
        mount -t proc proc "$root/proc"
        mount --rbind /sys "$root/sys"
        for ((i = 0; i < n; i++)); do
            d=$1; shift
            [ -d "$d" ] || continue
            mkdir -p "$root$d"
            mount --bind "$d" "$root$d"
        done
        cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
            HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
    ' debroot "$dir" "${#binds[@]}" "${binds[@]}" "$@"
    ;;
*)
    echo "usage: debroot.sh make DIR SUITE PKG... | run DIR CMD..." >&2; exit 2 ;;
esac
