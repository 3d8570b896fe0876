#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hold a filesystem recovered after a power cut to the promises of the sync
mode it ran under, against the workload's log (see workload.c).

    check.py ROOT LOG CUT MODE INTERVAL_S LONGEST_PASS_S

ROOT: the recovered filesystem's view of the directory the workload wrote
in; CUT: cutdev's record of the cut (CLOCK_MONOTONIC ns first); MODE: the
sync mode; INTERVAL_S: sync_interval; LONGEST_PASS_S: the longest sync pass
the daemon reported. Prints what was checked; exits 1 if a promise was
broken, naming each."""
import os
import sqlite3
import sys

REC, BLOCK, RAND_BLOCKS, CLOSE_BLOCKS = 256, 4096, 256, 8

root, logf, cutf, mode = sys.argv[1:5]
interval, longest = float(sys.argv[5]), float(sys.argv[6])
t_cut = int(open(cutf).read().split()[0])


def rec(kind, a, b, size):
    """The bytes workload.c's fill() writes (a port of it)."""
    mask = 2**64 - 1
    x = ((a * 0x9E3779B97F4A7C15) & mask) ^ ((b + 0x632BE59BD9B4E019) & mask) \
        ^ ord(kind)
    head = f"{kind} {a} {b}\n".encode()[:47]
    out = bytearray(size)
    out[:len(head)] = head
    for i in range(48, size):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        out[i] = ord('a') + x % 26
    return bytes(out)


appends, overwrites, osyncs, closes, commits, fsyncs = [], [], [], [], [], []
for line in open(logf):
    f = line.split()
    if not f:
        continue
    if f[0] == "A":
        appends.append((int(f[1]), int(f[2])))
    elif f[0] == "O":
        overwrites.append((int(f[1]), int(f[2]), int(f[3])))
    elif f[0] == "S":
        osyncs.append((int(f[1]), int(f[2])))
    elif f[0] == "C":
        closes.append((int(f[1]), int(f[2])))
    elif f[0] == "Q":
        commits.append((int(f[1]), int(f[2])))
    elif f[0] == "F":
        fsyncs.append((f[1], int(f[2]), int(f[3])))

broken = []


def fail(promise, what):
    broken.append(f"{promise}: {what}")


def read(name):
    try:
        return open(os.path.join(root, name), "rb").read()
    except FileNotFoundError:
        return b""


# what is on disk
app = read("append.dat")
app_recs = len(app) // REC
for i in range(app_recs):
    if app[i * REC:(i + 1) * REC] != rec("A", i, 0, REC):
        fail("no foreign bytes", f"append.dat record {i} is not what was "
             "written there" + (" (zeros)" if not any(app[i * REC:(i + 1) * REC])
                                else ""))
        app_recs = i
        break
tail = app[(len(app) // REC) * REC:]
if tail and tail != rec("A", len(app) // REC, 0, REC)[:len(tail)]:
    fail("no foreign bytes", "append.dat ends in bytes never written")

written = {}  # block -> versions written
for b, v, _ in overwrites:
    written.setdefault(b, set()).add(v)
max_ver = max((v for _, v, _ in overwrites), default=0)
rnd = read("rand.dat")
on_disk = {}
if len(rnd) != RAND_BLOCKS * BLOCK:
    fail("fsync", f"rand.dat is {len(rnd)} bytes, fsynced at "
         f"{RAND_BLOCKS * BLOCK} before the start")
for b in range(min(len(rnd) // BLOCK, RAND_BLOCKS)):
    blk = rnd[b * BLOCK:(b + 1) * BLOCK]
    head = blk[:48].split(b"\n")[0].split()
    ok = False
    if len(head) == 3 and head[0] == b"O" and int(head[1]) == b:
        v = int(head[2])
        ok = (v == 0 or v in written.get(b, ()) or v > max_ver) and \
            blk == rec("O", b, v, BLOCK)
    if not ok:
        fail("no foreign bytes", f"rand.dat block {b} holds bytes never "
             "written there" + (" (zeros)" if not any(blk) else ""))
        on_disk[b] = -1
    else:
        on_disk[b] = v

osy = read("osync.dat")
osy_recs = 0
while (osy_recs + 1) * REC <= len(osy) and \
        osy[osy_recs * REC:(osy_recs + 1) * REC] == rec("S", osy_recs, 0, REC):
    osy_recs += 1


def close_file_whole(n):
    for name in (f"c/{n}", f"c/{n}.tmp"):
        data = read(name)
        if data and data == b"".join(rec("C", n, b, BLOCK)
                                     for b in range(CLOSE_BLOCKS)):
            return True
    return False


for name in os.listdir(os.path.join(root, "c")) if os.path.isdir(
        os.path.join(root, "c")) else []:
    n = int(name.split(".")[0])
    data = read(f"c/{name}")
    want = b"".join(rec("C", n, b, BLOCK) for b in range(CLOSE_BLOCKS))
    if data != want[:len(data)]:
        fail("no foreign bytes", f"c/{name} holds bytes never written to it"
             + (" (zeros)" if data.count(0) > len(data) // 2 else ""))

rows = set()
try:
    db = sqlite3.connect(os.path.join(root, "db.sqlite"))
    ic = db.execute("PRAGMA integrity_check").fetchone()[0]
    if ic != "ok":
        fail("sqlite", f"integrity_check: {ic}")
    rows = {r[0] for r in db.execute("SELECT id FROM t")}
    db.close()
except sqlite3.DatabaseError as e:
    fail("sqlite", f"the database cannot be read: {e}")


def need_appends(promise, before):
    """Every append acknowledged before `before` is on disk."""
    lost = [s for s, t in appends if t < before and s >= app_recs]
    if lost:
        fail(promise, f"{len(lost)} appends acknowledged before it are lost "
             f"(first: seq {lost[0]}; {app_recs} on disk)")


def need_overwrites(promise, before):
    """Each block holds at least the last version acknowledged before."""
    last = {}
    for b, v, t in overwrites:
        if t < before:
            last[b] = v
    lost = [(b, v) for b, v in last.items() if on_disk.get(b, -1) < v]
    if lost:
        b, v = lost[0]
        fail(promise, f"{len(lost)} blocks of rand.dat older than their "
             f"acknowledged version (block {b}: {on_disk.get(b)} on disk, "
             f"{v} acknowledged)")


checked = []
# every mode: fsync, O_SYNC, sqlite's commits
done = [(f, s) for f, s, e in fsyncs if e < t_cut]
for name in ("append.dat", "rand.dat"):
    starts = [s for f, s in done if f == name]
    if starts:
        (need_appends if name == "append.dat" else need_overwrites)(
            "fsync", max(starts))
checked.append(f"{len(done)} fsyncs")
lost = [s for s, t in osyncs if t < t_cut and s >= osy_recs]
if lost:
    fail("O_SYNC", f"{len(lost)} O_SYNC writes acknowledged are lost "
         f"(first: {lost[0]})")
checked.append(f"{sum(1 for _, t in osyncs if t < t_cut)} O_SYNC writes")
lost = [i for i, t in commits if t < t_cut and i not in rows]
if lost:
    fail("sqlite", f"{len(lost)} committed transactions are lost "
         f"(first: {lost[0]})")
checked.append(f"{sum(1 for _, t in commits if t < t_cut)} commits")

# the mode's own promise
if mode == "immediate":
    need_appends("sync=immediate", t_cut)
    need_overwrites("sync=immediate", t_cut)
    checked.append("every acknowledged write")
elif mode == "periodic":
    before = t_cut - int((interval + longest) * 1e9)
    need_appends("sync=periodic", before)
    need_overwrites("sync=periodic", before)
    checked.append(f"writes older than {interval + longest:.3f} s")
if mode in ("immediate", "close"):
    lost = [n for n, t in closes if t < t_cut and not close_file_whole(n)]
    if lost:
        fail(f"sync={mode}", f"{len(lost)} files closed before the cut are "
             f"not there whole (first: c/{lost[0]})")
    checked.append(f"{sum(1 for _, t in closes if t < t_cut)} closed files")

print(f"  {mode}: {', '.join(checked)}; on disk {app_recs} appends, "
      f"{osy_recs} O_SYNC records, {len(rows)} rows")
for b in broken:
    print(f"  BROKEN {b}")
sys.exit(1 if broken else 0)
