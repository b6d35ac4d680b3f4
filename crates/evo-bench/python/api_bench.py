"""One measured child of `evo-bench api` for the official Python SDK (evo-workspaces from PyPI).

Usage (run by `evo-bench api`, which embeds and writes out this script):
    api_bench.py HUB_URL ORG_ID WORKSPACE_ID CALLS CONCURRENCY

Makes CALLS calls, alternately listing workspaces (page size 50) and getting WORKSPACE_ID, with
CONCURRENCY calls in flight, through the SDK's WorkspaceAPIClient on AioTransport defaults. The
token comes from EVO_TOKEN. The clock and the CPU time of this process (getrusage, user plus
system) are taken around the calls only. Prints one line:
    result seconds=S cpu=S
"""

import asyncio
import os
import resource
import sys
import time
import uuid

from evo.aio import AioTransport
from evo.common import APIConnector
from evo.oauth import AccessTokenAuthorizer
from evo.workspaces import WorkspaceAPIClient


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    hub_url, org_id, workspace_id, calls, concurrency = argv
    calls, concurrency = int(calls), int(concurrency)
    transport = AioTransport(user_agent="evo-rs-api-bench")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = WorkspaceAPIClient(connector, uuid.UUID(org_id))
    workspace = uuid.UUID(workspace_id)
    queue = iter(range(calls))

    async def worker() -> None:
        for i in queue:
            if i % 2 == 0:
                page = await client.list_workspaces(limit=50)
                if len(page.items()) != 50:
                    raise RuntimeError(f"a page of {len(page.items())} workspaces")
            else:
                await client.get_workspace(workspace)

    async with transport:
        started, cpu = time.perf_counter(), cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"result seconds={seconds:.4f} cpu={cpu:.4f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
