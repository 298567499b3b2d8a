"""CPU seconds and memory of a process, who listens on a port, how busy the machine is.

All of it from /proc (proc(5)), so nothing here needs psutil. The relay and
connections benchmarks read the server's figures this way: `--server-pid`,
or else the process listening on the URL's port.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu: float  # user + system seconds, all threads
    rss: int  # bytes
    hwm: int  # peak RSS, bytes


def read_proc(pid: int) -> ProcSample | None:
    """The process's CPU seconds and memory now; None once it is gone (or unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    # Fields after the command name, which may hold spaces: state is field 3,
    # utime and stime are fields 14 and 15 (proc(5)).
    rest = stat[stat.rindex(")") + 2:].split()
    cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK
    mem = {k: int(v.split()[0]) * 1024 for k, _, v in
           (line.partition(":") for line in status.splitlines()) if k in ("VmRSS", "VmHWM")}
    return ProcSample(cpu, mem.get("VmRSS", 0), mem.get("VmHWM", 0))


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(x) for x in first[:8]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def listening_pids(port: int) -> list[int]:
    """Processes holding a listening TCP socket on `port` (needs to read their /proc/*/fd)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    pids: list[int] = []
    if not inodes:
        return pids
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
    return pids
