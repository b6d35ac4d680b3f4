"""One measured round of `evo-bench blockmodels` for the official Python SDK (evo-blockmodels +
pyarrow).

Usage (run by `evo-bench blockmodels`, which embeds and writes out this script):
    blockmodels_bench.py HUB_URL ORG_ID WORKSPACE_ID BM_ID NX NY NZ COLUMNS CACHE_DIR

The block model BM_ID (NX x NY x NZ regular blocks, with the float64 columns `a` and `b`) is
made by the orchestrator. COLUMNS says which float64 columns to add, as for the Rust side
(`Added` in blockmodels.rs): 0 for the default workload's one column `grade`, (b % 97) * 0.125
for block b, queried back with `a` and `b`; n for the n columns `grade0` .. `grade{n-1}` of a
sized run, ((b * M_c) % (2**31 - 1)) * 1e-6 for block b in column c (M_c = 2654435761 + 2c),
queried back alone. Builds the i, j, k and added columns (the same formulas as the Rust side)
with numpy/pyarrow before any clock starts. The update clock runs around `add_new_columns`
(Parquet written by pyarrow, uploaded, job waited for); the query clock around
`query_block_model_as_table` of the queried columns with indices (job waited for, result
downloaded and read into a pyarrow Table). The token comes from EVO_TOKEN, the CA of the TLS
blob listener from SSL_CERT_FILE. Prints one line:
    result update_seconds=S query_seconds=S update_cpu=S query_cpu=S peak_bytes=N rows=N checksum=X
where the cpu fields are this process's user + system CPU seconds inside each clock, peak_bytes
is this process's own peak resident memory (VmHWM, see bench_peak.py) and checksum is the sum
of the queried columns read.
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

import bench_peak


# The values of a sized run's columns: the same constants as MODULUS and MULTIPLIER in
# blockmodels.rs. Blocks stay below 2^28 and multipliers below 2^32, so b * M_c fits in int64.
MODULUS = 2**31 - 1
MULTIPLIER = 2_654_435_761


def added_columns(b: np.ndarray, count: int) -> dict[str, pa.Array]:
    """The added columns for the blocks `b` (int64) and the COLUMNS argument `count`."""
    if count == 0:
        return {"grade": pa.array((b % 97).astype(np.float64) * 0.125)}
    columns = {}
    for c in range(count):
        values = b * (MULTIPLIER + 2 * c)
        np.remainder(values, MODULUS, out=values)
        grade = values.astype(np.float64)
        del values
        grade *= 1e-6
        columns[f"grade{c}"] = pa.array(grade)
    return columns


def queried_columns(count: int) -> list[str]:
    """The columns the query reads back for the COLUMNS argument `count`."""
    if count == 0:
        return ["a", "b", "grade"]
    return [f"grade{c}" for c in range(count)]


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    hub_url, org_id, workspace_id, bm_id, nx, ny, nz, count, cache_dir = argv
    nx, ny, nz, count = int(nx), int(ny), int(nz), int(count)
    b = np.arange(nx * ny * nz, dtype=np.int64)
    table = pa.table(
        {
            "i": pa.array((b % nx).astype(np.uint32)),
            "j": pa.array(((b // nx) % ny).astype(np.uint32)),
            "k": pa.array((b // (nx * ny)).astype(np.uint32)),
            **added_columns(b, count),
        }
    )
    del b
    queried = queried_columns(count)
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
            columns=queried,
            geometry_columns=GeometryColumns.indices,
            column_headers=ColumnHeaderType.name,
        )
        query_seconds, query_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    checksum = sum(pc.sum(result.column(c)).as_py() for c in queried)
    peak_bytes = bench_peak.peak_bytes()
    print(
        f"result update_seconds={update_seconds:.4f} query_seconds={query_seconds:.4f} "
        f"update_cpu={update_cpu:.4f} query_cpu={query_cpu:.4f} "
        f"peak_bytes={peak_bytes} rows={result.num_rows} checksum={checksum:.6e}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
