"""How long a login's password check takes at the CPU share each Lambda memory size buys.

Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB. This runs
the login's argon2id check in a child process held to that share of one core by a Linux cgroup
(CFS quota, as Lambda throttles), and prints the median per memory size next to the full core
in the same run. Needs root and a writable cgroup v1 `cpu` controller; says so otherwise.

    python -m bench.login_cpu
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")
FULL_VCPU_MB = 1769
MEMORY_SIZES_MB = (256, 512, 1024, 1769)
PERIOD_US = 100_000
CHECKS = 15

CHILD = """
import statistics, sys, time
from chalicelib.auth.passwords import hash_password, verify_password
stored = hash_password("a fairly ordinary password")
times = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    verify_password("a fairly ordinary password", stored)
    times.append((time.perf_counter() - started) * 1000)
print(statistics.median(times))
"""


def median_ms(share: float | None) -> float:
    """The median check time in a child process held to `share` of one core (None: unheld)."""
    command = [sys.executable, "-c", CHILD, str(CHECKS)]
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    if share is None:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return float(done.stdout)
    group = CGROUP_ROOT / f"events-api-bench-{os.getpid()}"
    group.mkdir()
    try:
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(int(PERIOD_US * share)))
        tasks = group / "tasks"
        child = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: tasks.write_text(str(os.getpid())),  # the child joins the group
        )
        out, _ = child.communicate(timeout=600)
        return float(out)
    finally:
        group.rmdir()


def main() -> int:
    if not (CGROUP_ROOT / "cpu.cfs_quota_us").exists() or os.geteuid() != 0:
        print("needs root and a cgroup v1 cpu controller at /sys/fs/cgroup/cpu; not here")
        return 1
    full = median_ms(None)
    print(f"{'memory (MB)':>12}{'CPU share':>12}{'argon2 check (ms)':>20}{'x full core':>14}")
    for size in MEMORY_SIZES_MB:
        share = min(1.0, size / FULL_VCPU_MB)
        ms = median_ms(share)
        print(f"{size:>12}{share:>12.2f}{ms:>20.1f}{ms / full:>14.2f}")
    print(f"{'(unheld)':>12}{'1 core':>12}{full:>20.1f}{1:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
