"""One measured round of `evo-bench objects` for the official Python SDK (evo-objects + pyarrow).

Usage (run by `evo-bench objects`, which embeds and writes out this script):
    objects_bench.py HUB_URL ORG_ID WORKSPACE_ID PATH POINTS OFFSET CACHE_DIR

Builds a point set of POINTS points (x, y, z and one float attribute, from the same formulas as
the Rust side, OFFSET added to x and the attribute so that no round's upload is deduplicated)
with pyarrow before any clock starts. The upload clock runs around writing the
tables (the SDK's save_table: Parquet 2.4, gzip), uploading them and posting the object; the
download clock around getting the object and downloading and reading both tables into pyarrow
Tables. The token comes from EVO_TOKEN, the CA of the TLS blob listener from SSL_CERT_FILE.
Prints one line:
    result upload_seconds=S download_seconds=S upload_cpu=S download_cpu=S peak_bytes=N rows=N checksum=X
where the cpu fields are this process's user + system CPU seconds inside each clock, peak_bytes
is this process's own peak resident memory (VmHWM, see bench_peak.py) and checksum is the sum
of all values read.
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
from evo.common import APIConnector, Environment
from evo.common.utils import Cache
from evo.oauth import AccessTokenAuthorizer
from evo.objects import ObjectAPIClient

import bench_peak


def cpu_seconds() -> float:
    """User plus system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    hub_url, org_id, workspace_id, path, points, offset, cache_dir = argv
    n, offset = int(points), float(offset)
    i = np.arange(n, dtype=np.float64)
    positions = pa.table({"x": i * 0.5 + offset, "y": i * -0.25, "z": np.sqrt(i)})
    grade = pa.table({"grade": (i % 97.0) * 0.125 + offset})
    del i
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-objects-bench")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    cache = Cache(cache_dir, mkdir=True)
    client = ObjectAPIClient(environment, connector, cache)
    data = client.get_data_client(cache)
    async with transport:
        started, cpu = time.perf_counter(), cpu_seconds()
        coordinates = await data.upload_table(positions)
        values = await data.upload_table(grade)
        await client.create_geoscience_object(
            path,
            {
                "schema": "/objects/pointset/1.3.0/pointset.schema.json",
                "uuid": None,
                "name": "bench",
                "bounding_box": {"min_x": 0, "max_x": 1, "min_y": 0, "max_y": 1, "min_z": 0, "max_z": 1},
                "coordinate_reference_system": "unspecified",
                "locations": {
                    "coordinates": coordinates,
                    "attributes": [
                        {"name": "grade", "key": "grade", "attribute_type": "scalar",
                         "nan_description": {"values": []}, "values": values}
                    ],
                },
            },
        )
        upload_seconds, upload_cpu = time.perf_counter() - started, cpu_seconds() - cpu
        del positions, grade
        data.clear_cache()

        started, cpu = time.perf_counter(), cpu_seconds()
        downloaded = await client.download_object_by_path(path)
        obj = downloaded.as_dict()
        read_positions = await downloaded.download_table(obj["locations"]["coordinates"])
        read_grade = await downloaded.download_table(obj["locations"]["attributes"][0]["values"])
        download_seconds, download_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    checksum = sum(pc.sum(read_positions.column(c)).as_py() for c in read_positions.column_names)
    checksum += pc.sum(read_grade.column(0)).as_py()
    peak_bytes = bench_peak.peak_bytes()
    print(
        f"result upload_seconds={upload_seconds:.4f} download_seconds={download_seconds:.4f} "
        f"upload_cpu={upload_cpu:.4f} download_cpu={download_cpu:.4f} "
        f"peak_bytes={peak_bytes} rows={read_positions.num_rows} checksum={checksum:.6e}"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
