"""One measured round of `evo-bench blockmodels` for the official Python SDK (evo-blockmodels +
pyarrow).

Usage (run by `evo-bench blockmodels`, which embeds and writes out this script):
    blockmodels_bench.py HUB_URL ORG_ID WORKSPACE_ID BM_ID NX NY NZ CACHE_DIR

The block model BM_ID (NX x NY x NZ regular blocks, with the float64 columns `a` and `b`) is
made by the orchestrator. Builds the i, j, k and `grade` columns (the same formula as the Rust
side) with numpy/pyarrow before any clock starts. The update clock runs around
`add_new_columns` (Parquet written by pyarrow, uploaded, job waited for); the query clock
around `query_block_model_as_table` of `a`, `b` and `grade` with indices (job waited for,
result downloaded and read into a pyarrow Table). The token comes from EVO_TOKEN, the CA of
the TLS blob listener from SSL_CERT_FILE. Prints one line:
    result update_seconds=S query_seconds=S update_cpu=S query_cpu=S peak_bytes=N rows=N checksum=X
where the cpu fields are this process's user + system CPU seconds inside each clock, peak_bytes
is ru_maxrss (KiB on Linux) times 1024 and checksum is the sum of the three
columns read.
"""

import asyncio
import os
import resource
import sys
import time
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from evo.aio import AioTransport
from evo.blockmodels import BlockModelAPIClient
from evo.blockmodels.endpoints.models import ColumnHeaderType, GeometryColumns
from evo.common import APIConnector, Environment
from evo.common.utils import Cache
from evo.oauth import AccessTokenAuthorizer


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    hub_url, org_id, workspace_id, bm_id, nx, ny, nz, cache_dir = argv
    nx, ny, nz = int(nx), int(ny), int(nz)
    b = np.arange(nx * ny * nz, dtype=np.int64)
    table = pa.table(
        {
            "i": pa.array((b % nx).astype(np.uint32)),
            "j": pa.array(((b // nx) % ny).astype(np.uint32)),
            "k": pa.array((b // (nx * ny)).astype(np.uint32)),
            "grade": pa.array((b % 97).astype(np.float64) * 0.125),
        }
    )
    del b
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-blockmodels-bench")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = BlockModelAPIClient(environment, connector, Cache(cache_dir, mkdir=True))
    bm = uuid.UUID(bm_id)
    async with transport:
        started, cpu = time.perf_counter(), cpu_seconds()
        await client.add_new_columns(bm, table)
        update_seconds, update_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        del table

        started, cpu = time.perf_counter(), cpu_seconds()
        result = await client.query_block_model_as_table(
            bm,
            columns=["a", "b", "grade"],
            geometry_columns=GeometryColumns.indices,
            column_headers=ColumnHeaderType.name,
        )
        query_seconds, query_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    checksum = sum(pc.sum(result.column(c)).as_py() for c in ["a", "b", "grade"])
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"result update_seconds={update_seconds:.4f} query_seconds={query_seconds:.4f} "
        f"update_cpu={update_cpu:.4f} query_cpu={query_cpu:.4f} "
        f"peak_bytes={peak_bytes} rows={result.num_rows} checksum={checksum:.6e}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
