#!/bin/bash
# demo.sh: berth at work, rootless, with nothing from the internet.
#
#   hack/demo.sh [BERTH_BINARY] [USER]      (as root; `make demo` runs it)
#
# As USER (default berthtest, who needs a range in /etc/subuid and
# /etc/subgid) and with a throw-away --root, it builds a busybox rootfs
# tarball from /bin/busybox, imports it, pushes it to a local registry,
# removes it, pulls it back, lists images and shows the rootless setup.
# Everything it creates (registry, pause process, temp dirs) goes on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
berth_src=$(realpath "${1:-$here/bin/berth}")
demo_user=${2:-berthtest}

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it runs berth as $demo_user)"
[ -x "$berth_src" ] || die "$berth_src not found: run make build"
id -u "$demo_user" >/dev/null 2>&1 || die "no user $demo_user: run make test-setup"
[ -x /bin/busybox ] || die "/bin/busybox not found: apt-get install busybox-static"
command -v docker-registry >/dev/null || die "docker-registry not found: apt-get install docker-registry"

uid=$(id -u "$demo_user")
gid=$(id -g "$demo_user")
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
chmod 0755 "$work"
registry_pid=

cleanup() {
	local rc=$?
	set +e
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	berth_quiet rm -a -f >/dev/null 2>&1
	# The demo user's pause process, started in our private TMPDIR.
	local pidfile="$work/tmp/berth-run-$uid/pause.pid"
	if [ -f "$pidfile" ]; then
		local pid
		pid=$(cat "$pidfile")
		grep -qa __pause "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
	fi
	rm -rf "$work"
	if [ "$rc" = 0 ]; then echo; echo "demo: done, cleaned up $work"; else echo "demo: FAILED (exit $rc), cleaned up $work" >&2; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy of the binary (the pause process keeps its executable busy)
# and a private HOME and TMPDIR for the demo user.
install -m 0755 "$berth_src" "$work/berth"
install -m 0755 "$(dirname "$berth_src")/berth-monitor" "$work/berth-monitor"
install -d -m 0700 -o "$uid" -g "$gid" "$work/home" "$work/tmp" "$work/store"

berth() {
	echo "\$ berth $*" >&2
	berth_quiet "$@"
}
berth_quiet() {
	(cd "$work" && runuser -u "$demo_user" -- env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$work/home" USER="$demo_user" LOGNAME="$demo_user" TMPDIR="$work/tmp" LANG=C.UTF-8 \
		"$work/berth" --root "$work/store/root" --runroot "$work/store/run" "$@")
}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. a busybox rootfs tarball from /bin/busybox"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,root,home,var}
install -d -m 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
# What `busybox --install -s` does: an absolute symlink per applet.
for applet in $(/bin/busybox --list-full); do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$rootfs/$(dirname "$applet")"
	ln -sf /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
tarball="$work/busybox-rootfs.tar"
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$tarball" .
chmod 0644 "$tarball"
echo "$tarball: $(du -h "$tarball" | cut -f1), $(/bin/busybox --list | wc -l) applets"

step "2. berth version (as $demo_user: no user namespace needed for this)"
berth version

step "3. berth import"
image=localhost/demo/busybox:latest
berth import "$tarball" "$image"
berth images

step "4. a registry on 127.0.0.1 (docker-registry, plain HTTP, storage in $work)"
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 30000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port found"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; die "docker-registry exited"; }
	sleep 0.1
done
echo "registry listening on 127.0.0.1:$port (pid $registry_pid)"
remote=127.0.0.1:$port/demo/busybox:latest

step "5. push, remove, pull back"
berth push --tls-verify=false "$image" "$remote"
berth rmi "$image"
berth images
berth pull --tls-verify=false "$remote"
berth images

step "6. run containers, rootless"
berth run --rm "$remote" echo "hello from a rootless container"
web_port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 30000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then web_port=$p; break; fi
done
berth run -d --name web -p "127.0.0.1:$web_port:80" "$remote" \
	sh -c 'mkdir -p /www && echo "hello from busybox httpd in berth" > /www/index.html && exec httpd -f -p 80 -h /www'
berth ps
page=
for _ in $(seq 50); do
	page=$(wget -qO- "http://127.0.0.1:$web_port/" 2>/dev/null || busybox wget -qO- "http://127.0.0.1:$web_port/" 2>/dev/null) && break
	sleep 0.1
done
echo "\$ wget -qO- http://127.0.0.1:$web_port/" >&2
echo "$page"
[ "$page" = "hello from busybox httpd in berth" ] || die "the published port did not serve the page"
berth exec web ps
berth stop -t 1 web
berth ps -a
berth rm web

step "7. build an image, rootless (a cached RUN, a cache mount, a here-document)"
install -d -m 0755 -o "$uid" -g "$gid" "$work/app"
cat > "$work/app/Containerfile" <<EOF
FROM $remote
ARG GREETING=hello
WORKDIR /app
COPY <<EOT /app/greeting.txt
\$GREETING from a berth build
EOT
RUN --mount=type=cache,target=/cache echo "built at \$(date +%T)" | tee /cache/last > /app/built
CMD ["cat", "/app/greeting.txt", "/app/built"]
EOF
chown -R "$uid:$gid" "$work/app"
berth build -t localhost/demo/app app
echo "\$ berth build -t localhost/demo/app app   # again: every step from the cache" >&2
berth_quiet build -t localhost/demo/app app | grep -E "^(STEP|-->)"
berth run --rm localhost/demo/app

step "8. rootless: who berth is, and where"
echo "\$ berth info --format '...'" >&2
berth_quiet info --format 'rootless:        {{.Host.Security.Rootless}}\nuid map:         {{.Host.IDMappings.UIDMap}}\ngid map:         {{.Host.IDMappings.GIDMap}}\npause process:   {{.Host.PausePID}} ({{.Host.PausePIDFile}})\nstorage driver:  {{.Store.GraphDriverName}}: {{.Store.GraphDriverWhy}}\nOCI runtime:     {{.Host.OCIRuntime.Name}}: {{.Host.OCIRuntime.Reason}}\ngraph root:      {{.Store.GraphRoot}}' | sed 's/^ \{8,\}/                 /'
