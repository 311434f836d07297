#!/bin/bash
# Builds each context under DIR (a directory of build contexts, each with a
# Containerfile using FROM localhost/bb) with berth and with podman, rootless
# as $USER_NAME, and compares the images: config fields and the file tree
# (names, types, modes, owners, sizes; not times). A by-hand equivalence
# check, not a test: podman is the reference and is never called by berth.
#
#   hack/compare-podman-build.sh DIR [BERTH]
set -euo pipefail
DIR=$(readlink -f "$1")
BERTH=$(readlink -f "${2:-bin/berth}")
USER_NAME=${USER_NAME:-berthtest}
WORK=$(mktemp -d /tmp/berth-compare.XXXXXX)
chmod 755 "$WORK"
as_user() { runuser -u "$USER_NAME" -- env -u XDG_RUNTIME_DIR HOME="$WORK/home" TMPDIR="$WORK/tmp" "$@"; }
cleanup() {
	# the pause processes this run started (berth's and podman's)
	pkill -u "$USER_NAME" -f "^$WORK/berth __pause" 2>/dev/null || true
	as_user podman system migrate >/dev/null 2>&1 || true
	rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$WORK/tmp" && chown "$USER_NAME" "$WORK/home" "$WORK/tmp"
install -m 755 "$BERTH" "$WORK/berth"
install -m 755 "$(dirname "$BERTH")/berth-monitor" "$WORK/berth-monitor"
B=("$WORK/berth" --root "$WORK/home/b-root" --runroot "$WORK/tmp/b-run")
P=(podman --runtime runc --root "$WORK/home/p-root" --runroot "$WORK/tmp/p-run" --storage-driver overlay)

mkdir -p "$WORK/bb/bin" "$WORK/bb/etc" "$WORK/bb/tmp"
cp /bin/busybox "$WORK/bb/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$WORK/bb/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$WORK/bb/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$WORK/bb/etc/group"
chmod 1777 "$WORK/bb/tmp"
tar -C "$WORK/bb" -cf "$WORK/bb.tar" . && chmod 644 "$WORK/bb.tar"
as_user "${B[@]}" import -q "$WORK/bb.tar" localhost/bb >"$WORK/tmp/import.out" 2>&1
as_user "${P[@]}" import -q "$WORK/bb.tar" localhost/bb >"$WORK/tmp/import.out" 2>&1

FIELDS='Env={{json .Config.Env}}
Cmd={{json .Config.Cmd}}
Entrypoint={{json .Config.Entrypoint}}
WorkingDir={{.Config.WorkingDir}}
User={{.Config.User}}
Labels={{json .Config.Labels}}
ExposedPorts={{json .Config.ExposedPorts}}
Volumes={{json .Config.Volumes}}
StopSignal={{.Config.StopSignal}}
Layers={{len .RootFS.Layers}}'

tree() { # tool image -> sorted listing of the image's files
	local tool=$1 img=$2 c
	c=$(as_user "$tool" "${@:3}" create "$img" true)
	as_user "$tool" "${@:3}" export -o "$WORK/tmp/export.tar" "$c"
	tar -tvf "$WORK/tmp/export.tar" --numeric-owner 2>/dev/null |
		awk '{ $4=""; $5=""; print }' | sed 's#  *# #g; s# \./# #' | grep -v -E ' (etc/hosts|etc/hostname|etc/resolv.conf|run/.containerenv|dev/?|proc/?|sys/?|run/?)$' | sort
	as_user "$tool" "${@:3}" rm "$c" >/dev/null
}

same=0 differ=0
for ctx in "$DIR"/*/; do
	name=$(basename "$ctx")
	cp -a "$ctx" "$WORK/ctx-$name" && chown -R "$USER_NAME" "$WORK/ctx-$name"
	if ! as_user "${B[@]}" build -q -t "localhost/cmp-$name" "$WORK/ctx-$name" >"$WORK/b.out" 2>&1; then
		echo "$name: berth build failed"; cat "$WORK/b.out"; differ=$((differ + 1)); continue
	fi
	if ! as_user "${P[@]}" build -q -t "localhost/cmp-$name" "$WORK/ctx-$name" >"$WORK/p.out" 2>&1; then
		echo "$name: podman build failed"; cat "$WORK/p.out"; differ=$((differ + 1)); continue
	fi
	as_user "${B[@]}" image inspect --format "$FIELDS" "localhost/cmp-$name" >"$WORK/b.cfg"
	# podman marks its images with the buildah version; berth does not
	as_user "${P[@]}" image inspect --format "$FIELDS" "localhost/cmp-$name" |
		sed -E 's/"io.buildah.version":"[^"]*",?//; s/,}/}/; s/^Labels=\{\}$/Labels=null/' >"$WORK/p.cfg"
	tree "$WORK/berth" "localhost/cmp-$name" "${B[@]:1}" >"$WORK/b.tree"
	tree podman "localhost/cmp-$name" "${P[@]:1}" >"$WORK/p.tree"
	if diff -u "$WORK/p.cfg" "$WORK/b.cfg" >"$WORK/cfg.diff" && diff -u "$WORK/p.tree" "$WORK/b.tree" >"$WORK/tree.diff"; then
		echo "$name: same config and files"
		same=$((same + 1))
	else
		echo "$name: DIFFERENT (- podman, + berth)"
		cat "$WORK/cfg.diff" "$WORK/tree.diff" 2>/dev/null | grep '^[-+][^-+]' | head -20 || true
		differ=$((differ + 1))
	fi
done
echo "$same same, $differ different"
