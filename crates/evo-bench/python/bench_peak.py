"""The peak resident memory of a benchmark's Python process, for `evo-bench`'s Python scripts
(written out beside them by `evo-bench`, which embeds this module).

`getrusage().ru_maxrss` is not this process's peak on Linux: the kernel carries the resident
high-water mark of the process image that `exec` replaced, and a child spawned by
`evo-bench` (a vfork sharing the orchestrator's memory until its exec) inherits the
orchestrator's peak, emulator and stored blobs included. `VmHWM` in `/proc/self/status` is the
high-water mark of this process's own memory since its exec, as the Rust side reports.
"""

import resource


def peak_bytes() -> int:
    """This process's peak resident memory in bytes: VmHWM where /proc has it, else ru_maxrss
    (KiB on Linux, bytes on macOS; taken as KiB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
