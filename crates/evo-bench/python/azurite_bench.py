"""One measured round of `evo-bench azurite` for the official Python SDK (evo-sdk-common from PyPI).

Usage (run by `evo-bench azurite`, which embeds and writes out this script):
    azurite_bench.py SAS_URL LOCAL_SOURCE LOCAL_TARGET SOURCE_SHA256

Uploads LOCAL_SOURCE to the block blob at SAS_URL with `evo.common.io.StorageDestination.upload_file`,
then downloads that blob to LOCAL_TARGET with `evo.common.io.HTTPSource.download_file`, both with the
SDK's defaults (4 MiB chunks, min(32, cpu_count + 4) workers) on an `evo.aio.AioTransport` with its
defaults: the calls the SDK's own services make for their blobs. SAS_URL is a service SAS URL of
Azurite's HTTPS listener on port 443 (the SDK only accepts `https` on the default port), whose CA
comes from SSL_CERT_FILE.

The clocks run around `upload_file` and around `download_file` only: interpreter start-up, imports
and transport construction are outside them; the CPU time of this process (getrusage, user plus
system, every thread) is taken around the same calls. After the clocks the downloaded file is
checked against SOURCE_SHA256 (its size, then SHA-256); a mismatch exits non-zero. Prints one line:
    result upload_seconds=S download_seconds=S upload_cpu=S download_cpu=S peak_bytes=N size=N sha256=HEX
where peak_bytes is this process's own peak resident memory (VmHWM, see bench_peak.py).
"""

import asyncio
import hashlib
import os
import resource
import sys
import time

from evo.aio import AioTransport
from evo.common.io import HTTPSource, StorageDestination

import bench_peak


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    url, source, target, expected_sha256 = argv

    async def sas_url() -> str:
        return url

    transport = AioTransport(user_agent="evo-rs-azurite-bench")
    async with transport:
        started, cpu = time.perf_counter(), cpu_seconds()
        await StorageDestination.upload_file(source, sas_url, transport)
        upload_seconds, upload_cpu = time.perf_counter() - started, cpu_seconds() - cpu

        started, cpu = time.perf_counter(), cpu_seconds()
        await HTTPSource.download_file(target, sas_url, transport)
        download_seconds, download_cpu = time.perf_counter() - started, cpu_seconds() - cpu

    # Outside the clocks: the download must be the source.
    size, source_size = os.path.getsize(target), os.path.getsize(source)
    if size != source_size:
        sys.exit(f"downloaded {size} bytes, the source has {source_size}")
    with open(target, "rb") as f:
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    if sha256 != expected_sha256:
        sys.exit(f"the download's SHA-256 is {sha256}, the source's {expected_sha256}")
    peak_bytes = bench_peak.peak_bytes()
    print(
        f"result upload_seconds={upload_seconds:.4f} download_seconds={download_seconds:.4f} "
        f"upload_cpu={upload_cpu:.4f} download_cpu={download_cpu:.4f} "
        f"peak_bytes={peak_bytes} size={size} sha256={sha256}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
