"""One measured round of `evo-bench files` for the official Python SDK (evo-files from PyPI).

Usage (run by `evo-bench files`, which embeds and writes out this script):
    files_bench.py HUB_URL ORG_ID WORKSPACE_ID LOCAL_SOURCE REMOTE_PATH LOCAL_TARGET

Uploads LOCAL_SOURCE to REMOTE_PATH, then downloads that file to LOCAL_TARGET, with the SDK's
default settings (AioTransport defaults; 4 MiB chunks, min(32, cpu_count + 4) workers). The
access token comes from EVO_TOKEN (never the command line) and the CA of the emulator's TLS blob
listener from SSL_CERT_FILE, as in crates/evo-files/tests/python/interop.py.

The clocks run around the upload calls (prepare_upload_by_path + upload_from_path) and around
the download calls (prepare_download_by_id + download_to_path) only: interpreter start-up,
imports and client construction are outside them; the CPU time of this process (getrusage,
user plus system, every thread) is taken around the same calls. Prints one line:
    result upload_seconds=S download_seconds=S upload_cpu=S download_cpu=S peak_bytes=N file_id=UUID size=N
where peak_bytes is this process's own peak resident memory (VmHWM, see bench_peak.py).
"""

import asyncio
import os
import resource
import sys
import time
import uuid

from evo.aio import AioTransport
from evo.common import APIConnector, Environment
from evo.files import FileAPIClient
from evo.oauth import AccessTokenAuthorizer

import bench_peak


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    hub_url, org_id, workspace_id, source, remote, target = argv
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-files-bench")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = FileAPIClient(environment, connector)
    async with transport:
        started, cpu = time.perf_counter(), cpu_seconds()
        upload = await client.prepare_upload_by_path(remote)
        await upload.upload_from_path(source, transport)
        upload_seconds, upload_cpu = time.perf_counter() - started, cpu_seconds() - cpu

        started, cpu = time.perf_counter(), cpu_seconds()
        download = await client.prepare_download_by_id(upload.file_id)
        await download.download_to_path(target, transport)
        download_seconds, download_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        metadata = download.metadata
    peak_bytes = bench_peak.peak_bytes()
    print(
        f"result upload_seconds={upload_seconds:.4f} download_seconds={download_seconds:.4f} "
        f"upload_cpu={upload_cpu:.4f} download_cpu={download_cpu:.4f} "
        f"peak_bytes={peak_bytes} file_id={metadata.id} size={metadata.size}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
