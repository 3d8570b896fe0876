#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark: fio workloads, a metadata run and a tarball mix, on the
# native directory and on each system side by side, in one run; then the
# report (Markdown table and PNG chart of ratios to native).
#
#   bench.sh RESULTS_DIR          the full run (about 15 minutes)
#   bench.sh RESULTS_DIR quick    a smoke run: small files, two systems
#   bench.sh RESULTS_DIR levers   native and memmapfs with one option set
#                                 after another, one pass, no tarball
#
# BENCH_SYSTEMS overrides the systems; "memmapfs:OPTS" is memmapfs with
# -o OPTS. BENCH_PASSES overrides the number of passes, BENCH_COLD_PASSES
# that of the cold reads (5; 1 in the quick run), which run first, each on
# a fresh mount and only recorded if nothing of the file was resident.
# BENCH_ONLY=cold runs the cold reads alone, BENCH_ONLY=tree the big tree
# (find -ls, du -s, daemon memory per entry) alone.
#
# Needs root (mounts, dropping the page cache). Installs fio, bindfs,
# mergerfs and gnuplot itself; a system that cannot be had is skipped with
# a note in the report. Backing directories live under /var/tmp (a real
# disk, not tmpfs). No speed is asserted: numbers are reported. With
# BENCH_STRICT=1 (make bench-quick, and so CI) the run fails unless every
# system produced every figure of its workloads, in every pass.
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
QUICK=${2:-}
PY=/usr/bin/python3

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (it mounts and drops the page cache)" >&2
	exit 1
fi
"$TOP/scripts/deps.sh" fio bindfs mergerfs gnuplot-nox libfuse3-dev gcc e2fsprogs \
	python3 tar attr
env -u MAKEFLAGS -u SANITIZE make -s -C "$TOP" NODEPS=1 memmapfs >/dev/null

B=$(mktemp -d /var/tmp/memmapfs-bench.XXXXXX)
PIDS=""
cleanup() {
	for m in "$B"/*/mnt "$B"/*/src; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf --one-file-system "$B"
}
trap cleanup EXIT INT TERM

if [ "$QUICK" = quick ]; then
	SIZE=64M SIZE_MB=64 RUNTIME=1 META_N=500 PASSES=1 COLD_PASSES=1
	TREE_DIRS=20 TREE_PER=100
	SYSTEMS="native memmapfs"
else
	# Figures on a shared VM drift by tens of percent from one minute to
	# the next: every system runs in each of PASSES passes, each figure
	# is compared with native's in the same pass, and the report gives
	# the median and the spread.
	SIZE=1G SIZE_MB=1024 RUNTIME=5 META_N=10000 PASSES=${BENCH_PASSES:-3}
	# the big tree: 200,000 files, ten times a common fd limit
	TREE_DIRS=200 TREE_PER=1000
	COLD_PASSES=${BENCH_COLD_PASSES:-5}
	SYSTEMS="native memmapfs memmapfs-best memmapfs-auto bindfs mergerfs passthrough_ll"
fi
if [ "$QUICK" = levers ]; then
	PASSES=${BENCH_PASSES:-1}
	COLD_PASSES=${BENCH_COLD_PASSES:-5}
	SYSTEMS="native memmapfs memmapfs:threads=1 memmapfs:clone_fd \
memmapfs:cache=auto memmapfs:cache=keep memmapfs:advice=sequential memmapfs:preload=populate \
memmapfs:window=256K memmapfs:window=16M memmapfs:writeback"
fi
SYSTEMS=${BENCH_SYSTEMS:-$SYSTEMS}
if [ "${BENCH_ONLY:-}" = cold ]; then PASSES=0; fi
if [ "${BENCH_ONLY:-}" = tree ]; then COLD_PASSES=0; fi
# memmapfs' best options for this machine, chosen by measurement (the
# README's Performance section says what was tried and rejected), and
# cache=auto, the default before cache=single (which caches data read
# twice), on its own
BEST_OPTS=${BEST_OPTS:-timeout=30,preload=willneed}
AUTO_OPTS=cache=auto

RAW=$OUT/raw.jsonl
: >"$RAW"
cat >"$OUT/machine.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%MZ)",
 "kernel": "$(uname -r)",
 "cpus": $(nproc),
 "memory_gib": $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo),
 "disk": "$(df --output=source /var/tmp | tail -1)",
 "fs": "$(df --output=fstype /var/tmp | tail -1)",
 "size": "$SIZE", "runtime_s": $RUNTIME, "quick": "${QUICK:-no}",
 "passes": $PASSES, "cold_passes": $COLD_PASSES, "meta_n": $META_N,
 "tree_files": $((TREE_DIRS * TREE_PER)),
 "systems": "$(echo $SYSTEMS)",
 "memmapfs_best": "$BEST_OPTS", "memmapfs_auto": "$AUTO_OPTS"}
EOF

gcc -O2 -o "$B/meta" "$TOP/tests/bench/meta.c"
PASSTHROUGH=""
if [ -r /usr/share/doc/libfuse3-dev/examples/passthrough_ll.c ] &&
	gcc -O2 -w -o "$B/bin-passthrough_ll" \
		/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c \
		$(pkg-config --cflags --libs fuse3) 2>"$B/pt.log"; then
	PASSTHROUGH=$B/bin-passthrough_ll
fi
tar -C /usr -cf "$B/include.tar" include
TAR_MB=$(du -m "$B/include.tar" | cut -f1)

note() { # a line for the report's notes
	printf '{"system": "%s", "note": "%s"}\n' "$1" "$2" >>"$RAW"
	echo "  note: $1: $2"
}

record() { # system workload value unit [cpu_s bytes cache_growth]
	printf '{"pass": %s, "system": "%s", "workload": "%s", "value": %s, "unit": "%s", "cpu_s": %s, "bytes": %s, "cache_growth": %s}\n' \
		"$PASS" "$1" "$2" "$3" "$4" "${5:-null}" "${6:-null}" "${7:-null}" >>"$RAW"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# Each workload starts with nothing left to write back from the one
# before (a system that syncs sooner, as memmapfs' periodic mode does,
# would otherwise pay for its predecessor's writes in the next run).
settle() {
	sync
	sleep 1
}

cpu_of() { # utime+stime of a process, in seconds
	[ -n "${1:-}" ] || { echo 0; return; }
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

DATA=data # the file fio works on, in DIR

cached_kb() { awk '/^Cached:/ {print $2}' /proc/meminfo; }

calc() { awk "BEGIN { printf \"%.6f\", $* }"; } # JSON-safe arithmetic

wait_mounted() {
	for _ in $(seq 100); do
		mountpoint -q "$1" && return 0
		sleep 0.1
	done
	return 1
}

# wd SYSTEM: the system's working directory (fio takes ':' in a file name
# as a separator, and "memmapfs:OPTS" names are full of them)
wd() {
	printf '%s/%s' "$B" "$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_')"
}

# start SYSTEM: set DIR (where the workloads run) and PID (its daemon)
start() {
	S=$(wd "$1")/src M=$(wd "$1")/mnt
	mkdir -p "$S" "$M"
	PID=""
	case $1 in
	native) DIR=$S; return 0 ;;
	memmapfs) "$TOP/memmapfs" -f "$S" "$M" 2>"$(wd "$1").log" & PID=$! ;;
	memmapfs-best)
		"$TOP/memmapfs" -f -o "$BEST_OPTS" "$S" "$M" 2>"$(wd "$1").log" &
		PID=$! ;;
	memmapfs-auto)
		"$TOP/memmapfs" -f -o "$AUTO_OPTS" "$S" "$M" 2>"$(wd "$1").log" &
		PID=$! ;;
	memmapfs:*)
		"$TOP/memmapfs" -f -o "${1#memmapfs:}" "$S" "$M" 2>"$(wd "$1").log" &
		PID=$! ;;
	bindfs)
		command -v bindfs >/dev/null || { note bindfs "not installed"; return 1; }
		bindfs -f --multithreaded -o auto_cache "$S" "$M" 2>"$(wd "$1").log" &
		PID=$! ;;
	mergerfs)
		command -v mergerfs >/dev/null || { note mergerfs "not installed"; return 1; }
		mergerfs -f -o cache.files=auto-full "$S" "$M" 2>"$(wd "$1").log" &
		PID=$! ;;
	passthrough_ll)
		[ -n "$PASSTHROUGH" ] || {
			note passthrough_ll "could not be built from libfuse3-dev's example"
			return 1
		}
		"$PASSTHROUGH" -f -o source="$S",cache=always,writeback "$M" \
			2>"$(wd "$1").log" &
		PID=$! ;;
	esac
	PIDS="$PIDS $PID"
	wait_mounted "$M" || { note "$1" "did not mount: $(head -c 200 "$(wd "$1").log")"; return 1; }
	DIR=$M
}

stop() {
	[ "$1" = native ] && return 0
	umount "$(wd "$1")/mnt" 2>/dev/null || umount -l "$(wd "$1")/mnt"
	for _ in $(seq 100); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
}

# fio SYSTEM WORKLOAD KIND FIELD [fio args...]: run fio on $DIR/data and
# record its bandwidth (FIELD=bw, MiB/s) or IOPS of KIND (read or write),
# with the daemon CPU, bytes and page cache growth around it. A failure is
# noted, not fatal.
fio_measure() {
	sys=$1 name=$2 kind=$3 field=$4
	shift 4
	rm -f "$B/fio.json"
	k0=$(cached_kb)
	c0=$(cpu_of "$PID")
	# invalidate=0: the page cache is ours to manage (warm, or dropped)
	if ! fio --name="$name" --filename="$DIR/$DATA" --ioengine=psync \
		--invalidate=0 \
		--output-format=json --output="$B/fio.json" "$@" \
		>"$B/fio.err" 2>&1; then
		note "$sys" "$name failed: $(tail -c 200 "$B/fio.err" | tr '\n"' '  ')"
		return 0
	fi
	c1=$(cpu_of "$PID")
	k1=$(cached_kb)
	set -- $($PY - "$B/fio.json" "$kind" <<'PYEOF'
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
rw = sys.argv[2]
print(f"{sum(j[rw]['bw_bytes'] for j in jobs) / 2**20:.1f}",
      f"{sum(j[rw]['iops'] for j in jobs):.0f}",
      sum(j[rw]['io_bytes'] for j in jobs))
PYEOF
)
	if [ "$field" = bw ]; then
		record "$sys" "$name" "$1" MiB/s "$(calc "$c1 - $c0")" "$3" \
			"$(calc "($k1 - $k0) * 1024")"
	else
		record "$sys" "$name" "$2" IOPS "$(calc "$c1 - $c0")" "$3"
	fi
}

# page_cache SYSTEM: after a cold read of the whole file, how much of it
# the page cache holds, per byte of the file: the file seen through the
# mount plus the backing file (a FUSE overlay can cache both). Counted per
# file (fincore), so nothing else that the drop evicted counts.
page_cache() {
	record "$1" page-cache "$(calc "$(resident) / $(stat -c %s "$S/$DATA")")" \
		"GiB per GiB"
}

# fincore_bytes FILE...: bytes of the files in the page cache (per file,
# fincore); nothing at all if fincore could not tell
fincore_bytes() {
	fincore -b -n -o RES "$@" 2>/dev/null |
		awk '{ s += $1; n++ } END { if (n) print s }'
}

# resident: bytes of $DATA in the page cache, through the mount and in
# the backing file
resident() {
	if [ "$DIR" = "$S" ]; then r=$(fincore_bytes "$S/$DATA")
	else r=$(fincore_bytes "$DIR/$DATA" "$S/$DATA"); fi
	echo "${r:-0}"
}

# The metadata and tarball runs create and delete tens of thousands of
# files; ext4 then skips recently freed inodes when allocating (a scan that
# grows with each deletion), which would slow every system after the first.
# Each system gets them on a fresh ext4 of its own, made in a file on the
# same disk and loop-mounted over its SOURCE (or, where loop devices are
# not available, the shared directory, with a note). The image is sparse
# but large: mergerfs refuses to create on a branch with less than 4 GiB
# free (its minfreespace default). Inode tables and journal are written at
# mkfs time, so no lazy-init thread writes behind the measurements.
fresh_fs() { # system
	img=$(wd "$1").img
	if truncate -s 8G "$img" &&
		mkfs.ext4 -q -F -N 400000 \
			-E lazy_itable_init=0,lazy_journal_init=0 "$img" &&
		mount -o loop "$img" "$(wd "$1")/src" 2>"$B/loop.err"; then
		return 0
	fi
	note "$1" "no loop device: metadata and tar ran on the shared disk"
	rm -f "$img"
}

drop_fs() { # system
	mountpoint -q "$(wd "$1")/src" && umount "$(wd "$1")/src"
	rm -f "$(wd "$1").img"
}

workloads() { # system
	sys=$1
	# sequential write 1 MiB with a final fsync: makes the data file
	settle
	fio_measure "$sys" seqwrite write bw --rw=write --bs=1M --size=$SIZE \
		--end_fsync=1
	[ -e "$DIR/data" ] || { note "$sys" "no data file: reads skipped"; return 0; }

	# warm sequential and random reads (read it all once first)
	cat "$DIR/data" >/dev/null
	fio_measure "$sys" seqread-warm read bw --rw=read --bs=1M --size=$SIZE \
		--time_based --runtime=$RUNTIME
	fio_measure "$sys" randread-warm-1 read iops --rw=randread --bs=4k \
		--size=$SIZE --time_based --runtime=$RUNTIME
	fio_measure "$sys" randread-warm-2 read iops --rw=randread --bs=4k \
		--size=$SIZE --numjobs=2 --time_based --runtime=$RUNTIME

	settle
	fio_measure "$sys" randwrite write iops --rw=randwrite --bs=4k \
		--size=$SIZE --time_based --runtime=$RUNTIME
	rm -f "$DIR/data"
}

# Cold reads, apart from the rest (the README's "cold" promise): each on a
# fresh mount (memmapfs keeps its windows mapped across opens, and mapped
# pages survive drop_caches), the page cache dropped, and the figure is
# only recorded if nothing of the file was resident when the clock
# started: the backing file is checked first (before anything opens it
# through the mount), then the file through the mount. Each system reads a
# file of its own, all written together before the first pass, and the
# order of systems turns from pass to pass: this VM's disk is a file on the
# host, whose cache the guest cannot drop, so the first reader of a block
# pays for the host too.
make_cold_files() {
	first=""
	for sys in $SYSTEMS; do
		f=$(wd "$sys")/src/cold
		mkdir -p "$(dirname "$f")"
		if [ -z "$first" ]; then
			head -c "$SIZE_MB"M /dev/urandom >"$f"
			first=$f
		else
			cp "$first" "$f"
		fi
	done
	sync
}

cold_measure() { # system workload kind field fio-args...
	sys=$1 name=$2
	start "$sys" || return 0
	DATA=cold
	drop_caches
	# the backing file first: opening the file through the mount may be
	# what starts a system's preload (memmapfs' preload=willneed), which
	# is that system at work, not a page left over
	r0=$(fincore_bytes "$S/cold")
	r1=0
	[ "$DIR" = "$S" ] || r1=$(fincore_bytes "$DIR/cold")
	# (a file fincore cannot tell about counts as not cold)
	if [ "${r0:-1}" -ne 0 ] || [ "${r1:-1}" -ne 0 ]; then
		note "$sys" "$name (pass $PASS) not recorded: ${r0:-?} bytes of the backing file and ${r1:-?} through the mount resident at the start"
	else
		fio_measure "$@"
		[ "$name" = seqread-cold ] && page_cache "$sys"
	fi
	DATA=data
	stop "$sys"
}

cold_workloads() { # system
	cold_measure "$1" seqread-cold read bw --rw=read --bs=1M --size=$SIZE
	cold_measure "$1" randread-cold read iops --rw=randread --bs=4k \
		--size=$SIZE --time_based --runtime=$RUNTIME
}

# rotated N WORDS...: the words turned left by N
rotated() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		n=$((n - 1))
	done
	echo "$@"
}

files_workloads() { # system
	sys=$1
	if [ "${BENCH_ONLY:-}" = tree ]; then
		tree_workloads "$sys"
		return 0
	fi

	# metadata
	settle
	if ! mkdir "$DIR/meta" 2>"$B/meta.err"; then
		note "$sys" "no metadata or tar run: $(head -c 200 "$B/meta.err")"
		return 0
	fi
	if out=$("$B/meta" "$DIR/meta" "$META_N" 2>"$B/meta.err"); then
		set -- $(echo "$out" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(d["create"], d["stat"], d["unlink"])')
		record "$sys" create "$1" ops/s
		record "$sys" stat "$2" ops/s
		record "$sys" unlink "$3" ops/s
	else
		note "$sys" "metadata run failed: $(head -c 200 "$B/meta.err")"
	fi
	rm -rf "$DIR/meta"

	# the real mix: extract a tarball of /usr/include, tar it back, rm -rf
	if [ -z "$QUICK" ]; then
		settle
		t0=$(date +%s.%N)
		mkdir "$DIR/x" && tar -C "$DIR/x" -xf "$B/include.tar" ||
			note "$sys" "tar x failed"
		t1=$(date +%s.%N)
		tar -C "$DIR/x" -cf - include | cat >/dev/null
		t2=$(date +%s.%N)
		rm -rf "$DIR/x"
		t3=$(date +%s.%N)
		record "$sys" tar-extract "$(calc "$t1 - $t0")" s
		record "$sys" tar-create "$(calc "$t2 - $t1")" s
		record "$sys" rm-rf "$(calc "$t3 - $t2")" s
	fi
	settle
	tree_workloads "$sys"
}

# The big tree, made behind the mount (how fast a system creates files is
# the metadata run's business): TREE_DIRS directories of TREE_PER empty
# files.
make_tree() { # dir
	$PY - "$1" "$TREE_DIRS" "$TREE_PER" <<'PYEOF'
import os, sys
top, nd, nf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.mkdir(top)
for d in range(nd):
    p = os.path.join(top, "d%03d" % d)
    os.mkdir(p)
    for f in range(nf):
        os.close(os.open(os.path.join(p, "f%04d" % f),
                         os.O_CREAT | os.O_WRONLY, 0o644))
PYEOF
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# find -ls of the big tree from cold caches, then du -s of it: the time of
# each, only if every entry was listed (a daemon out of fds lists fewer:
# noted instead), and the daemon's memory growth per entry walked.
tree_workloads() { # system
	sys=$1 total=$((TREE_DIRS * TREE_PER + TREE_DIRS + 1))
	make_tree "$S/tree"
	drop_caches
	r0=$(rss_kb "${PID:-none}") || r0=""
	t0=$(date +%s.%N)
	n=$(find "$DIR/tree" -ls 2>"$B/find.err" | wc -l)
	t1=$(date +%s.%N)
	du -s "$DIR/tree" >"$B/du.out" 2>"$B/du.err" && du_ok=1 || du_ok=0
	t2=$(date +%s.%N)
	if [ "$n" -eq "$total" ] && [ ! -s "$B/find.err" ]; then
		record "$sys" tree-find "$(calc "$t1 - $t0")" s
	else
		note "$sys" "find -ls listed $n of $total entries: $(head -c 150 "$B/find.err" | tr '\n"' '  ')"
	fi
	if [ "$du_ok" = 1 ] && [ ! -s "$B/du.err" ]; then
		record "$sys" tree-du "$(calc "$t2 - $t1")" s
	else
		note "$sys" "du -s failed: $(head -c 150 "$B/du.err" | tr '\n"' '  ')"
	fi
	if [ -n "$r0" ] && r1=$(rss_kb "$PID"); then
		record "$sys" rss-per-entry "$(calc "($r1 - $r0) * 1024 / $total")" B
	fi
	case $sys in memmapfs*)
		st=$(getfattr -n user.memmapfs.stats --only-values "$DIR" 2>/dev/null) &&
			record "$sys" inode-bytes "$(echo "$st" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(d["inode_bytes"] / max(d["inodes"], 1))')" B
	esac
	rm -rf "$S/tree"
}

echo "bench: $SYSTEMS; files of $SIZE, $RUNTIME s a timed run; tarball ${TAR_MB} MB; $PASSES pass(es), $COLD_PASSES of cold reads"
NSYS=$(echo $SYSTEMS | wc -w)
make_cold_files
for PASS in $(seq "$COLD_PASSES"); do
	for sys in $(rotated $(((PASS - 1) % NSYS)) $SYSTEMS); do
		echo "== cold pass $PASS: $sys"
		cold_workloads "$sys"
	done
done
for PASS in $(seq "$PASSES"); do
for sys in $(rotated $(((PASS - 1) % NSYS)) $SYSTEMS); do
	echo "== pass $PASS: $sys"
	if [ "${BENCH_ONLY:-}" != tree ] && start "$sys"; then
		workloads "$sys"
		stop "$sys"
	fi
	fresh_fs "$sys" || true
	if start "$sys"; then
		files_workloads "$sys"
		stop "$sys"
	fi
	drop_fs "$sys"
done
done
BENCH_STRICT=${BENCH_STRICT:-} $PY "$TOP/tests/bench/report.py" "$OUT"
