#!/bin/bash
# make-fixture.sh BERTH [OUTDIR]
#
# Makes the upgrade fixture of test/e2e/upgrade_test.go with the berth binary
# BERTH (a release, or a build of the commit the fixture stands for): for each
# mode, root and rootless (user berthtest), a store at a fixed path with an
# image and containers made by that berth, saved as MODE.tar.xz (the graph
# root) with MODE.ps.json and MODE.inspect.json (what that berth showed of
# them) in OUTDIR (default: this script's directory). See README.md.
#
# Run as root (rootless mode runs berth as berthtest, like the e2e tests).
# It removes /var/tmp/berth-upgrade-fixture first: do not run it while
# TestUpgrade runs.
set -euo pipefail

BERTH=$(realpath "${1:?usage: make-fixture.sh BERTH [OUTDIR]}")
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath "${2:-$HERE}")
# These paths are recorded in the state DB (graph root, run root, log and
# bind mount paths): upgrade_test.go recreates the store at the same place.
TOP=/var/tmp/berth-upgrade-fixture
USER_NAME=berthtest
# The port published by upg-d (checked in ps and inspect, bound when the
# test starts it).
PORT=39412

[ "$(id -u)" = 0 ] || { echo "make-fixture.sh: run it as root" >&2; exit 1; }
"$BERTH" version >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The image: one static program (probe.c) and the directories the
# containers use as working directories.
if command -v musl-gcc >/dev/null; then
	musl-gcc -static -Os -s -o "$work/probe" "$HERE/probe.c"
else
	gcc -static -Os -s -o "$work/probe" "$HERE/probe.c"
fi
mkdir -p "$work/rootfs/tmp" "$work/rootfs/srv"
chmod 1777 "$work/rootfs/tmp"
chmod 755 "$work/rootfs" "$work/rootfs/srv"
install -m 755 "$work/probe" "$work/rootfs/probe"
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --sort=name -cf "$work/rootfs.tar" .
chmod 755 "$work"
chmod 644 "$work/rootfs.tar"

clean() {
	local dir=$1
	[ -e "$dir" ] || return 0
	# processes of an earlier run (monitors), then its mounts
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$dir/"; then
			kill -9 "${p#/proc/}" 2>/dev/null || true
		fi
	done
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | xargs -r -n1 umount -l
	rm -rf "$dir"
}

make_mode() {
	local mode=$1 base=$TOP/$1 as=()
	clean "$base"
	mkdir -p "$TOP" "$base"/{data,home,tmp,work}
	chmod 755 "$TOP"
	chmod 700 "$base"
	echo "bind mounted when the fixture was made" >"$base/data/file"
	chmod 755 "$base/data"
	chmod 644 "$base/data/file"
	if [ "$mode" = rootless ]; then
		chown -R "$USER_NAME:" "$base"
		as=(runuser -u "$USER_NAME" --)
	fi
	b() {
		(cd "$base/work" && "${as[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME="$base/home" TMPDIR="$base/tmp" LANG=C.UTF-8 \
			"$BERTH" --root "$base/graph" --runroot "$base/run" --storage-driver vfs "$@")
	}
	b import -q -c 'CMD ["/probe"]' "$work/rootfs.tar" localhost/upgrade-probe:latest >/dev/null
	# (a) created, never started, with many options
	b create --name upg-a \
		--env FOO=bar --env "SPACED=a b" \
		--label l1=v1 --label l2=v2 \
		--annotation an1=av1 \
		--volume "$base/data:/data:ro" \
		--workdir /srv --user 1000:1000 \
		--network none \
		--restart on-failure:2 \
		--stop-signal SIGUSR1 --stop-timeout 7 \
		--hostname upg-a-host \
		--log-opt max-size=1m \
		localhost/upgrade-probe:latest /probe a1 @/data/file wait >/dev/null
	# (b) started once, exited with code 3, with a log
	b run --name upg-b --env FROM_B=1 localhost/upgrade-probe:latest /probe hello exit=3 >/dev/null || [ $? = 3 ]
	# (d) renamed, with a published port
	b create --name upg-d-before -p "127.0.0.1:$PORT:8080" \
		localhost/upgrade-probe:latest /probe renamed >/dev/null
	b rename upg-d-before upg-d
	b ps -a --format json >"$OUT/$mode.ps.json"
	b inspect upg-a upg-b upg-d >"$OUT/$mode.inspect.json"

	# No berth process may outlive this: the pause process of rootless.
	if [ -f "$base/tmp/berth-run-$(id -u "$USER_NAME")/pause.pid" ]; then
		kill -9 "$(cat "$base/tmp/berth-run-$(id -u "$USER_NAME")/pause.pid")" 2>/dev/null || true
	fi
	# The graph root and the run root: an upgrade of the package while the
	# store is in use, with no reboot in between.
	tar -C "$base" --numeric-owner --sort=name --warning=no-file-ignored -cf - graph run | xz -9e >"$OUT/$mode.tar.xz"
	clean "$base"
}

make_mode root
make_mode rootless
rmdir "$TOP" 2>/dev/null || true
echo "made by $("$BERTH" version --format '{{.Client.Version}}' 2>/dev/null || "$BERTH" --version):"
ls -l "$OUT"/{root,rootless}.{tar.xz,ps.json,inspect.json}
