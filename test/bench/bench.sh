#!/bin/bash
# berth vs podman, side by side in one run, rootless (as $BENCH_USER), medians.
#
#   test/bench/bench.sh [pull|pullcpu|version|images|run|rootful|build|copy10k|scale|all]
#   BASELINE=/path/to/older/bin/berth test/bench/bench.sh baseline
#       (this berth against an older build, e.g. the previous commit's, on the
#       run, create and ps paths; berth-monitor must be beside that binary;
#       `BASELINE=... bench.sh version` adds it to the version run)
#
# Needs: bin/berth built, podman, hyperfine, docker-registry, a debian rootfs
# (debootstrap, cached in /var/cache/berth-test) and busybox-static. Run as root;
# `make bench` installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHAT=${1:-all}
BENCH_USER=${BENCH_USER:-berthtest}
RUNS=${RUNS:-5}
BERTH=$(readlink -f bin/berth)
# Debian's podman picks crun, which refuses cgroup v1/hybrid hosts; give it runc.
PODMAN="podman --runtime runc"
CACHE=/var/cache/berth-test
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
chmod 755 "$WORK"
REG_PID=

cleanup() {
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
	# the pause processes this run started (berth's and podman's)
	pkill -u "$BENCH_USER" -f "^$WORK/berth __pause" 2>/dev/null || true
	as_user podman system migrate >/dev/null 2>&1 || true
	# stores hold overlay mounts and files of subordinate uids
	{ grep -o " $WORK[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

as_user() { runuser -u "$BENCH_USER" -- env -u XDG_RUNTIME_DIR HOME="$(getent passwd "$BENCH_USER" | cut -d: -f6)" "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

install -m 755 "$BERTH" "$WORK/berth"
install -m 755 "$(dirname "$BERTH")/berth-monitor" "$WORK/berth-monitor"
BERTH=$WORK/berth
mkdir -p "$WORK/u" && chown "$BENCH_USER" "$WORK/u"
cd "$WORK"

start_registry() {
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat > "$WORK/registry.yml" <<EOC
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
EOC
	docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
	REG_PID=$!
	REG=127.0.0.1:$port
	for _ in $(seq 50); do curl -fs "http://$REG/v2/" >/dev/null && return; sleep 0.1; done
	echo "registry did not start" >&2; exit 1
}

debian_tar() {
	local tar=$CACHE/debian-bookworm-rootfs.tar
	if [ ! -f "$tar" ]; then
		mkdir -p "$CACHE"
		[ -d "$CACHE/debian-rootfs" ] || debootstrap --variant=minbase bookworm "$CACHE/debian-rootfs" http://deb.debian.org/debian >/dev/null
		tar -C "$CACHE/debian-rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
	fi
	echo "$tar"
}

# A store for each tool and run; wiped between runs.
store() { echo "--root $WORK/u/$1/root --runroot $WORK/u/$1/run"; }
wipe() {
	{ grep -o " $WORK/u/$1[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$WORK/u/$1"
}

bench_pull() {
	start_registry
	local tar img=$REG/debian:bookworm
	tar=$(debian_tar)
	# push the fixture with berth itself (rootful, its own store)
	"$BERTH" --root "$WORK/seed/root" --runroot "$WORK/seed/run" import -q "$tar" "$img" >/dev/null
	"$BERTH" --root "$WORK/seed/root" --runroot "$WORK/seed/run" push -q --tls-verify=false "$img"
	local layer
	layer=$(ls -S "$WORK"/registry/docker/registry/v2/blobs/sha256/*/*/data | head -1)
	local b=() p=() f=()
	for i in $(seq "$RUNS"); do
		wipe b; wipe p; rm -rf "$WORK/floor"; mkdir -p "$WORK/floor"; sync
		t0=$(now); zcat "$layer" | tar -x -C "$WORK/floor"; t1=$(now); f+=("$(echo "$t1 - $t0" | bc)")
		sync
		t0=$(now); as_user "$BERTH" $(store b) pull -q --tls-verify=false "$img" >/dev/null; t1=$(now); b+=("$(echo "$t1 - $t0" | bc)")
		sync
		t0=$(now); as_user $PODMAN $(store p) pull -q --tls-verify=false "$img" >/dev/null 2>&1; t1=$(now); p+=("$(echo "$t1 - $t0" | bc)")
	done
	local mb mp mf
	mb=$(printf '%s\n' "${b[@]}" | median); mp=$(printf '%s\n' "${p[@]}" | median); mf=$(printf '%s\n' "${f[@]}" | median)
	echo "pull debian (~200 MB, rootless, empty store, median of $RUNS):"
	echo "  berth  ${mb}s   runs: ${b[*]}"
	echo "  podman ${mp}s   runs: ${p[*]}"
	echo "  floor  ${mf}s   (zcat layer | tar -x, same disk) runs: ${f[*]}"
	echo "  berth/podman = $(ratio "$mb" "$mp")   berth/floor = $(ratio "$mb" "$mf")"
	wipe b; wipe p
}

# version, with its floor: a Go hello-world built by the same Go (the
# startup every Go program pays), in the same run; with BASELINE set, an
# older berth too. Minor page faults (median of 11) show how much of the
# binary and heap a start touches.
bench_version() {
	echo "version (rootless):"
	mkdir -p "$WORK/hello"
	printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("berth version 0") }\n' > "$WORK/hello/main.go"
	(cd "$WORK/hello" && GOFLAGS=-mod=mod GO111MODULE=off go build -o "$WORK/hello/hello" main.go)
	chmod 755 "$WORK/hello" "$WORK/hello/hello"
	local old=()
	if [ -n "${BASELINE:-}" ]; then
		mkdir -p "$WORK/old" && install -m 755 "$BASELINE" "$WORK/old/berth"
		old=("$WORK/old/berth version")
	fi
	as_user hyperfine -N -w 5 -r 100 --export-json "$WORK/u/version.json" "$BERTH version" "$PODMAN version" "$WORK/hello/hello" "${old[@]}" >/dev/null 2>&1
	report_hyperfine "$WORK/u/version.json"
	python3 - "$WORK/u/version.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, f = r[0]["median"], r[2]["median"]
print(f"  floor (Go hello-world) {f*1000:.1f} ms; berth - floor = {(b-f)*1000:.1f} ms")
if len(r) > 3:
    o = r[3]["median"]
    print(f"  baseline {o*1000:.1f} ms; baseline - floor = {(o-f)*1000:.1f} ms; berth/baseline = {b/o:.2f}")
EOP
	[ -x /usr/bin/time ] || return 0 # Debian's "time", for the page faults
	local cmd
	for cmd in "$BERTH version" "$WORK/hello/hello" "${old[@]}"; do
		# shellcheck disable=SC2086 # the command and its argument
		printf '  minor page faults %6s  %s\n' "$(for _ in $(seq 11); do as_user /usr/bin/time -f %R $cmd 2>&1 >/dev/null | tail -1; done | median)" "$cmd"
	done
}

# A busybox rootfs in $WORK/bb and its tarball $WORK/busybox.tar, made once.
busybox_tar() {
	[ -f "$WORK/busybox.tar" ] && return
	mkdir -p "$WORK/bb/bin" "$WORK/bb/etc"
	cp /bin/busybox "$WORK/bb/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$WORK/bb/bin/$a"; done
	echo "root:x:0:0:root:/root:/bin/sh" > "$WORK/bb/etc/passwd"
	tar -C "$WORK/bb" -cf "$WORK/busybox.tar" .
	chmod 644 "$WORK/busybox.tar"
}

bench_images() {
	local busybox=$WORK/busybox.tar
	busybox_tar
	# 50 distinct images (each tarball differs by one file), as 50 pulled
	# images would be; identical layers would send podman down a slow path.
	for i in $(seq 50); do
		echo "$i" > "$WORK/bb/etc/image-number"
		tar -C "$WORK/bb" -cf "$busybox" . && chmod 644 "$busybox"
		as_user "$BERTH" $(store ib) import -q --change "LABEL n=$i" "$busybox" "localhost/img$i:latest" >/dev/null
		as_user $PODMAN $(store ip) import -q --change "LABEL n=$i" "$busybox" "localhost/img$i:latest" >/dev/null 2>&1
	done
	echo "images with 50 images (rootless):"
	as_user hyperfine -N -w 3 -r 30 --export-json "$WORK/u/images.json" \
		"$BERTH $(store ib) images" "$PODMAN $(store ip) images" >/dev/null 2>&1
	report_hyperfine "$WORK/u/images.json"
	wipe ib; wipe ip
}

# A busybox image in both stores (as for bench_images) named localhost/bb.
busybox_in() {
	local tool=$1 store=$2
	busybox_tar
	as_user $tool $(store "$store") import -q "$WORK/busybox.tar" localhost/bb:latest >/dev/null 2>&1
}

# The floor of a container start: `runc run` of a prepared rootless bundle
# (the same busybox rootfs, `runc spec --rootless`, process `true`), as
# $BENCH_USER. Sets FLOOR_CMD.
floor_bundle() {
	local b=$WORK/u/floor
	mkdir -p "$b/rootfs" && tar -C "$b/rootfs" -xf "$WORK/busybox.tar"
	chown -R "$BENCH_USER" "$b"
	(cd "$b" && as_user runc spec --rootless)
	python3 - "$b/config.json" <<'EOP'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
json.dump(c, open(sys.argv[1], "w"))
EOP
	FLOOR_CMD="runc --root $b/state run --bundle $b floor"
}

bench_run() {
	busybox_in "$BERTH" rb; busybox_in "$PODMAN" rp
	floor_bundle
	echo "run --rm IMG true (rootless):"
	as_user hyperfine -N -w 3 -r 20 --output null --export-json "$WORK/u/run-host.json" \
		"$BERTH $(store rb) run --rm --network host localhost/bb true" \
		"$PODMAN $(store rp) run --rm --network host localhost/bb true" \
		"$FLOOR_CMD" >/dev/null 2>&1
	echo " --network host:"; report_hyperfine "$WORK/u/run-host.json"
	python3 - "$WORK/u/run-host.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, f = r[0]["median"], r[2]["median"]
print(f"  floor (runc run of a prepared rootless bundle) {f*1000:.1f} ms; berth/floor = {b/f:.2f}")
EOP
	as_user hyperfine -N -w 3 -r 20 --export-json "$WORK/u/run-default.json" \
		"$BERTH $(store rb) run --rm localhost/bb true" \
		"$PODMAN $(store rp) run --rm localhost/bb true" >/dev/null 2>&1
	echo " default network:"; report_hyperfine "$WORK/u/run-default.json"
	local t0 t1 b p
	t0=$(now); for i in $(seq 200); do as_user "$BERTH" $(store rb) create --name c$i localhost/bb true >/dev/null; done; t1=$(now); b=$(echo "$t1 - $t0" | bc)
	t0=$(now); for i in $(seq 200); do as_user $PODMAN $(store rp) create --name c$i localhost/bb true >/dev/null 2>&1; done; t1=$(now); p=$(echo "$t1 - $t0" | bc)
	echo "200 x create (rootless, total):"
	echo "  berth  ${b}s"; echo "  podman ${p}s"; echo "  berth/podman = $(ratio "$b" "$p")"
	echo "ps -a with 200 containers (rootless):"
	as_user hyperfine -N -w 3 -r 20 --export-json "$WORK/u/ps.json" \
		"$BERTH $(store rb) ps -a" "$PODMAN $(store rp) ps -a" >/dev/null 2>&1
	report_hyperfine "$WORK/u/ps.json"
	as_user "$BERTH" $(store rb) rm -a -f >/dev/null
	as_user $PODMAN $(store rp) rm -a -f >/dev/null 2>&1
	echo "monitor RSS for one detached container (rootless):"
	as_user "$BERTH" $(store rb) run -d --name rss --network host localhost/bb sleep 100 >/dev/null
	as_user $PODMAN $(store rp) run -d --name rss --network host localhost/bb sleep 100 >/dev/null 2>&1
	sleep 1
	local mr cr
	mr=$(ps -C berth-monitor -o rss= | sort -n | tail -1)
	cr=$(ps -C conmon -o rss= | sort -n | tail -1)
	echo "  berth-monitor ${mr} KiB"; echo "  conmon        ${cr} KiB"; echo "  berth-monitor/conmon = $(ratio "$mr" "$cr")"
	as_user "$BERTH" $(store rb) rm -f -t 0 rss >/dev/null 2>&1 || as_user "$BERTH" $(store rb) rm -f rss >/dev/null
	as_user $PODMAN $(store rp) rm -f -t 0 rss >/dev/null 2>&1
	wipe rb; wipe rp
}

# build: a Containerfile of the usual shape (busybox base, ARG, ENV, WORKDIR,
# COPY of a 50-file context, two RUN steps, one writing 200 files, EXPOSE,
# LABEL, CMD), rootless, berth and podman side by side: --no-cache (every
# step built and committed) and a rebuild with everything cached.
bench_build() {
	busybox_in "$BERTH" bdb; busybox_in "$PODMAN" bdp
	local ctx=$WORK/u/build-ctx
	mkdir -p "$ctx"
	for i in $(seq 50); do head -c 1024 /dev/urandom | base64 > "$ctx/file-$i.txt"; done
	cat > "$ctx/Containerfile" <<'EOC'
FROM localhost/bb
ARG GREETING=hello
ENV APP_HOME=/app MODE=bench
WORKDIR /app
COPY . /app/
RUN echo "$GREETING" > /app/greeting && ls /app | wc -l > /app/count
RUN for i in $(seq 200); do echo "file $i" > /app/gen-$i.txt; done
EXPOSE 8080
LABEL org.example.bench=build
CMD ["sh", "-c", "cat /app/greeting"]
EOC
	chown -R "$BENCH_USER" "$ctx"
	local runs=${BUILD_RUNS:-10}
	echo "build --no-cache (rootless, 10-step Containerfile, RUN network host for both):"
	as_user hyperfine -N -w 2 -r "$runs" --export-json "$WORK/u/build-nocache.json" \
		"$BERTH $(store bdb) build -q --no-cache --network host -t localhost/bench $ctx" \
		"$PODMAN $(store bdp) build -q --no-cache --network host -t localhost/bench $ctx" >/dev/null 2>&1
	report_hyperfine "$WORK/u/build-nocache.json"
	echo "build, everything cached (rootless):"
	as_user hyperfine -N -w 2 -r "$runs" --export-json "$WORK/u/build-cached.json" \
		"$BERTH $(store bdb) build -q --network host -t localhost/bench $ctx" \
		"$PODMAN $(store bdp) build -q --network host -t localhost/bench $ctx" >/dev/null 2>&1
	report_hyperfine "$WORK/u/build-cached.json"
	wipe bdb; wipe bdp
}

# copy10k: COPY of a 10,000-file context (100 directories of 100 small
# files), rootless, --no-cache and cached; for reference, tar of the same
# tree piped into tar -x on the same disk.
bench_copy10k() {
	busybox_in "$BERTH" bcb; busybox_in "$PODMAN" bcp
	local ctx=$WORK/u/copy-ctx
	mkdir -p "$ctx"
	for d in $(seq 100); do
		mkdir -p "$ctx/d$d"
		for f in $(seq 100); do echo "file $d/$f" > "$ctx/d$d/f$f"; done
	done
	printf 'FROM localhost/bb\nCOPY . /data/\n' > "$ctx/Containerfile"
	chown -R "$BENCH_USER" "$ctx"
	local runs=${BUILD_RUNS:-10}
	echo "build --no-cache, COPY of 10,000 files (rootless):"
	as_user hyperfine -N -w 1 -r "$runs" --export-json "$WORK/u/copy-nocache.json" \
		"$BERTH $(store bcb) build -q --no-cache -t localhost/copy $ctx" \
		"$PODMAN $(store bcp) build -q --no-cache -t localhost/copy $ctx" >/dev/null 2>&1
	report_hyperfine "$WORK/u/copy-nocache.json"
	echo "build, COPY of 10,000 files cached (rootless):"
	as_user hyperfine -N -w 1 -r "$runs" --export-json "$WORK/u/copy-cached.json" \
		"$BERTH $(store bcb) build -q -t localhost/copy $ctx" \
		"$PODMAN $(store bcp) build -q -t localhost/copy $ctx" >/dev/null 2>&1
	report_hyperfine "$WORK/u/copy-cached.json"
	as_user hyperfine -N -w 1 -r "$runs" --export-json "$WORK/u/copy-floor.json" \
		--prepare "rm -rf $WORK/u/copy-floor" \
		"sh -c 'mkdir $WORK/u/copy-floor && tar -C $ctx -cf - . | tar -C $WORK/u/copy-floor -xf -'" >/dev/null 2>&1
	python3 - "$WORK/u/copy-floor.json" "$WORK/u/copy-nocache.json" <<'EOP'
import json, sys
f = json.load(open(sys.argv[1]))["results"][0]["median"]
b = json.load(open(sys.argv[2]))["results"][0]["median"]
print(f"  reference: tar | tar -x of the context {f*1000:.1f} ms; berth --no-cache/reference = {b/f:.2f}")
EOP
	wipe bcb; wipe bcp
}

# baseline: this berth against an older one (BASELINE), interleaved, so that
# a change can show it costs nothing on the hot paths.
bench_baseline() {
	[ -n "${BASELINE:-}" ] || { echo "baseline: set BASELINE to an older bin/berth" >&2; exit 2; }
	mkdir -p "$WORK/old"
	install -m 755 "$BASELINE" "$WORK/old/berth"
	install -m 755 "$(dirname "$BASELINE")/berth-monitor" "$WORK/old/berth-monitor"
	local OLD=$WORK/old/berth
	busybox_in "$BERTH" rb; busybox_in "$OLD" ro
	echo "run --rm --network host IMG true (rootless):"
	as_user hyperfine -N -w 3 -r 30 --export-json "$WORK/u/bl-host.json" \
		"$BERTH $(store rb) run --rm --network host localhost/bb true" \
		"$OLD $(store ro) run --rm --network host localhost/bb true" >/dev/null 2>&1
	report_hyperfine "$WORK/u/bl-host.json" baseline
	echo "run --rm IMG true (rootless, default network):"
	as_user hyperfine -N -w 3 -r 30 --export-json "$WORK/u/bl-default.json" \
		"$BERTH $(store rb) run --rm localhost/bb true" \
		"$OLD $(store ro) run --rm localhost/bb true" >/dev/null 2>&1
	report_hyperfine "$WORK/u/bl-default.json" baseline
	local t0 t1 b=0 o=0
	for i in $(seq 200); do
		t0=$(now); as_user "$BERTH" $(store rb) create --name c$i localhost/bb true >/dev/null; t1=$(now); b=$(echo "$b + $t1 - $t0" | bc)
		t0=$(now); as_user "$OLD" $(store ro) create --name c$i localhost/bb true >/dev/null; t1=$(now); o=$(echo "$o + $t1 - $t0" | bc)
	done
	echo "200 x create (rootless, total, interleaved):"
	echo "  berth    ${b}s"; echo "  baseline ${o}s"; echo "  berth/baseline = $(ratio "$b" "$o")"
	echo "ps -a with 200 containers (rootless):"
	as_user hyperfine -N -w 3 -r 30 --export-json "$WORK/u/bl-ps.json" \
		"$BERTH $(store rb) ps -a" "$OLD $(store ro) ps -a" >/dev/null 2>&1
	report_hyperfine "$WORK/u/bl-ps.json" baseline
	wipe rb; wipe ro
}

# pull, interleaved per round: the floor, berth, podman and (with
# BASELINE=/path/to/older/berth) an older berth; wall and CPU (user+sys,
# children included) medians. CPU time is much less sensitive than wall
# time to what else the machine runs.
bench_pullcpu() {
	start_registry
	local tar img=$REG/debian:bookworm
	tar=$(debian_tar)
	"$BERTH" --root "$WORK/seed/root" --runroot "$WORK/seed/run" import -q "$tar" "$img" >/dev/null
	"$BERTH" --root "$WORK/seed/root" --runroot "$WORK/seed/run" push -q --tls-verify=false "$img"
	local layer old=${BASELINE:-}
	layer=$(ls -S "$WORK"/registry/docker/registry/v2/blobs/sha256/*/*/data | head -1)
	if [ -n "$old" ]; then
		mkdir -p "$WORK/old"
		install -m 755 "$old" "$WORK/old/berth"
		old=$WORK/old/berth
	fi
	local tools=(floor berth podman) t
	[ -n "$old" ] && tools+=(baseline)
	: > "$WORK/u/pullcpu.txt"; chown "$BENCH_USER" "$WORK/u/pullcpu.txt"
	for i in $(seq "$RUNS"); do
		for t in "${tools[@]}"; do
			wipe b; rm -rf "$WORK/floor"; mkdir -p "$WORK/floor"; sync
			case $t in
			floor) /usr/bin/time -f "$t %e %U %S" -a -o "$WORK/u/pullcpu.txt" sh -c "zcat '$layer' | tar -x -C '$WORK/floor'" ;;
			berth) as_user /usr/bin/time -f "$t %e %U %S" -a -o "$WORK/u/pullcpu.txt" "$BERTH" $(store b) pull -q --tls-verify=false "$img" >/dev/null ;;
			baseline) as_user /usr/bin/time -f "$t %e %U %S" -a -o "$WORK/u/pullcpu.txt" "$old" $(store b) pull -q --tls-verify=false "$img" >/dev/null ;;
			podman) as_user /usr/bin/time -f "$t %e %U %S" -a -o "$WORK/u/pullcpu.txt" $PODMAN $(store b) pull -q --tls-verify=false "$img" >/dev/null 2>&1 ;;
			esac
		done
	done
	wipe b
	echo "pull debian (~200 MB, rootless, empty store, interleaved, median of $RUNS): wall s, cpu (user+sys) s"
	python3 - "$WORK/u/pullcpu.txt" <<'EOP'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 4:
        rows.setdefault(f[0], []).append((float(f[1]), float(f[2]) + float(f[3])))
med = {t: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for t, v in rows.items()}
for t, v in rows.items():
    print(f"  {t:8} wall {med[t][0]:.2f}  cpu {med[t][1]:.2f}   runs: " + " ".join(f"{w:.2f}/{c:.2f}" for w, c in v))
b = med["berth"]
for o in ("floor", "podman", "baseline"):
    if o in med:
        print(f"  berth/{o}: wall {b[0]/med[o][0]:.2f}  cpu {b[1]/med[o][1]:.2f}")
EOP
}

# rootful: run --rm as root, berth and podman side by side, each with a
# private store (podman rootful: CNI with Debian's "podman" conflist; berth:
# its own conflist of the same network), busybox imported as root.
bench_rootful() {
	local runs=${ROOTFUL_RUNS:-20}
	busybox_tar
	local sb="--root $WORK/r/b/root --runroot $WORK/r/b/run" sp="--root $WORK/r/p/root --runroot $WORK/r/p/run"
	# podman rootful asks for RLIMIT_NOFILE 1048576 and runc fails where the
	# hard limits are lower (containers, CI runners): give it limits it can set.
	local pu="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
	"$BERTH" $sb import -q "$WORK/busybox.tar" localhost/bb:latest >/dev/null
	$PODMAN $sp import -q "$WORK/busybox.tar" localhost/bb:latest >/dev/null 2>&1
	echo "run --rm IMG true (rootful):"
	hyperfine -N -w 3 -r "$runs" --export-json "$WORK/r/run-host.json" \
		"$BERTH $sb run --rm --network host localhost/bb true" \
		"$PODMAN $sp run --rm $pu --network host localhost/bb true" >/dev/null 2>&1
	echo " --network host:"; report_hyperfine "$WORK/r/run-host.json"
	hyperfine -N -w 3 -r "$runs" --export-json "$WORK/r/run-default.json" \
		"$BERTH $sb run --rm localhost/bb true" \
		"$PODMAN $sp run --rm $pu localhost/bb true" >/dev/null 2>&1
	echo " default network (CNI bridge):"; report_hyperfine "$WORK/r/run-default.json"
	"$BERTH" $sb rm -a -f >/dev/null 2>&1 || true
	$PODMAN $sp rm -a -f >/dev/null 2>&1 || true
	{ grep -o " $WORK/r[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$WORK/r"
}

# scale: costs as the store grows. N = 0, 100, 1000 created (not running)
# containers in each tool's store (topped up from one step to the next), and
# at each N: run --rm, ps -a and rm -f of one container (created by
# --prepare), berth and podman side by side; x0 is a tool's figure against
# its own with an empty store. Then images with 0, 10 and 100 distinct
# images. SCALE_STEPS and SCALE_IMAGE_STEPS change the N (first one: the
# reference). With BASELINE=/path/to/older/bin/berth, that berth runs too, on
# its own store, in the same hyperfine runs (a third column).
bench_scale() {
	local tools=("$BERTH" "$PODMAN") stores=(sb sp) istores=(sib sip)
	if [ -n "${BASELINE:-}" ]; then
		mkdir -p "$WORK/old"
		install -m 755 "$BASELINE" "$WORK/old/berth"
		install -m 755 "$(dirname "$BASELINE")/berth-monitor" "$WORK/old/berth-monitor"
		tools+=("$WORK/old/berth"); stores+=(so); istores+=(sio)
	fi
	local runs=${SCALE_RUNS:-15} n k prev=0 out=$WORK/u/scale
	mkdir -p "$out"; chown "$BENCH_USER" "$out"
	for k in "${!tools[@]}"; do busybox_in "${tools[$k]}" "${stores[$k]}"; done
	cmds() { # the command line $1 (after the store flags) for every tool
		for k in "${!tools[@]}"; do printf '%s\n' "${tools[$k]} $(store "${stores[$k]}") $1"; done
	}
	local steps=${SCALE_STEPS:-0 100 1000} isteps=${SCALE_IMAGE_STEPS:-0 10 100}
	for n in $steps; do
		if [ "$n" -gt "$prev" ]; then
			for k in "${!tools[@]}"; do
				as_user sh -c "for i in \$(seq $((prev + 1)) $n); do ${tools[$k]} $(store "${stores[$k]}") create --name c\$i localhost/bb true >/dev/null 2>&1 || exit 1; done"
			done
			prev=$n
		fi
		local c=() p=()
		mapfile -t c < <(cmds "run --rm --network host localhost/bb true")
		as_user hyperfine -N -w 3 -r "$runs" --export-json "$out/run-$n.json" "${c[@]}" >/dev/null 2>&1
		mapfile -t c < <(cmds "ps -a")
		as_user hyperfine -N -w 3 -r "$runs" --export-json "$out/ps-$n.json" "${c[@]}" >/dev/null 2>&1
		mapfile -t c < <(cmds "rm -f rmme")
		mapfile -t p < <(cmds "create --name rmme localhost/bb true")
		local prep=()
		for k in "${!p[@]}"; do prep+=(--prepare "${p[$k]}"); done
		as_user hyperfine -N -w 2 -r "$runs" --export-json "$out/rm-$n.json" "${prep[@]}" "${c[@]}" >/dev/null 2>&1
	done
	# podman's containers hold locks in the user's shared lock table: free
	# them before wiping the store (a wipe alone leaks them until podman
	# runs out, "exceeded num_locks")
	as_user $PODMAN $(store sp) rm -a -f >/dev/null 2>&1 || true
	for k in "${!stores[@]}"; do wipe "${stores[$k]}"; done
	local busybox=$WORK/busybox.tar
	prev=0
	for n in $isteps; do
		for i in $(seq $((prev + 1)) "$n"); do
			echo "$i" > "$WORK/bb/etc/image-number"
			tar -C "$WORK/bb" -cf "$busybox" . && chmod 644 "$busybox"
			for k in "${!tools[@]}"; do
				as_user ${tools[$k]} $(store "${istores[$k]}") import -q --change "LABEL n=$i" "$busybox" "localhost/img$i:latest" >/dev/null 2>&1
			done
		done
		prev=$n
		local c=()
		for k in "${!tools[@]}"; do c+=("${tools[$k]} $(store "${istores[$k]}") images"); done
		as_user hyperfine -N -w 3 -r "$runs" --export-json "$out/images-$n.json" "${c[@]}" >/dev/null 2>&1
	done
	for k in "${!istores[@]}"; do wipe "${istores[$k]}"; done
	python3 - "$out" "$steps" "$isteps" <<'EOP'
import json, sys
d = sys.argv[1]
steps, isteps = [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
names = ["berth", "podman", "baseline"]
def med(name):
    return [x["median"] * 1000 for x in json.load(open(f"{d}/{name}.json"))["results"]]
k = len(med(f"ps-{steps[0]}"))
print("scale (rootless, medians in ms; x0 = against the same tool with an empty store; /p = against podman)")
for what, ns in (("run", steps), ("ps", steps), ("rm", steps), ("images", isteps)):
    label = {"run": "run --rm --network host IMG true", "ps": "ps -a", "rm": "rm -f of one container",
             "images": "images (N = images)"}[what]
    print(f"  {label}:")
    print("    " + f"{'N':>5}" + "".join(f" | {names[t]:>8} {'x0':>5} {'/p':>5}" for t in range(k)))
    z = med(f"{what}-{ns[0]}")
    for n in ns:
        m = med(f"{what}-{n}")
        print("    " + f"{n:>5}" + "".join(f" | {m[t]:>8.1f} {m[t]/z[t]:>5.2f} {m[t]/m[1]:>5.2f}" for t in range(k)))
EOP
}

report_hyperfine() {
	python3 - "$@" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
other = sys.argv[2] if len(sys.argv) > 2 else "podman"
b, p = r[0]["median"], r[1]["median"]
print(f"  berth  {b*1000:.1f} ms (median)\n  {other} {p*1000:.1f} ms (median)\n  berth/{other} = {b/p:.2f}")
EOP
}

case $WHAT in
pull) bench_pull ;;
pullcpu) bench_pullcpu ;;
run) bench_run ;;
version) bench_version ;;
images) bench_images ;;
build) bench_build ;;
baseline) bench_baseline ;;
copy10k) bench_copy10k ;;
rootful) bench_rootful ;;
scale) bench_scale ;;
all) bench_version; bench_images; bench_run; bench_rootful; bench_build; bench_copy10k; bench_scale; bench_pull ;;
*) echo "usage: $0 [pull|pullcpu|version|images|run|rootful|build|copy10k|scale|baseline|all]" >&2; exit 2 ;;
esac
