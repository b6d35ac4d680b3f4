"""Creates, fills and queries block models with the official Python SDK (evo-blockmodels +
pyarrow) against an Evo-compatible server.

Usage (run by tests/python_interop.rs):
    interop.py create HUB_URL ORG_ID WORKSPACE_ID NAME NX NY NZ CACHE_DIR
    interop.py read   HUB_URL ORG_ID WORKSPACE_ID BM_ID NX NY NZ CACHE_DIR
    interop.py report HUB_URL ORG_ID WORKSPACE_ID BM_ID/RS_ID NX NY NZ CACHE_DIR

`create` makes a regular model of NX x NY x NZ blocks of 10 x 10 x 5 at (100, 200, 300) with the
columns `grade` (float64), `count` (int32) and `rock` (string) from the formulas below (the
Rust test uses the same ones), given for every block with its i, j, k; `read` queries those
three columns of a model with indices. The access token comes from EVO_TOKEN, the CA of the
server's TLS blob listener from SSL_CERT_FILE. Prints one JSON line: the model id, the version
number and, per column, the row count and the SHA-256 of its values in block order (i fastest)
as little-endian bytes (strings: UTF-8 joined by newlines).

`report` reads report specification RS_ID of model BM_ID through the SDK's generated
`ReportsApi` (its pydantic models parse the answers strictly), lists the model's
specifications, reads the newest result of RS_ID, and starts a reporting job; prints the
specification, the result's rows and the new job's id as one JSON line.
"""

import asyncio
import hashlib
import json
import os
import struct
import sys
import uuid

import pyarrow as pa
from evo.aio import AioTransport
from evo.blockmodels import BlockModelAPIClient
from evo.blockmodels.data import RegularGridDefinition
from evo.blockmodels.endpoints.api import ReportsApi
from evo.blockmodels.endpoints.models import ReportingJobSpec
from evo.blockmodels.endpoints.models import ColumnHeaderType, GeometryColumns
from evo.common import APIConnector, Environment
from evo.common.utils import Cache
from evo.oauth import AccessTokenAuthorizer


def columns(nx: int, ny: int, nz: int) -> dict[str, list]:
    n = nx * ny * nz
    return {
        "i": [b % nx for b in range(n)],
        "j": [(b // nx) % ny for b in range(n)],
        "k": [b // (nx * ny) for b in range(n)],
        "grade": [(b % 13) * 0.37 + b / 1000.0 for b in range(n)],
        "count": [b % 500 - 250 for b in range(n)],
        "rock": [f"rock-{b % 5}" for b in range(n)],
    }


def digests(table: pa.Table, nx: int, ny: int) -> dict:
    i = table.column("i").to_pylist()
    j = table.column("j").to_pylist()
    k = table.column("k").to_pylist()
    order = sorted(range(table.num_rows), key=lambda r: i[r] + nx * (j[r] + ny * k[r]))
    grade = [table.column("grade")[r].as_py() for r in order]
    count = [table.column("count")[r].as_py() for r in order]
    rock = [table.column("rock")[r].as_py() for r in order]
    return {
        "rows": table.num_rows,
        "grade": hashlib.sha256(struct.pack(f"<{len(grade)}d", *grade)).hexdigest(),
        "count": hashlib.sha256(struct.pack(f"<{len(count)}i", *count)).hexdigest(),
        "rock": hashlib.sha256("\n".join(rock).encode()).hexdigest(),
    }


async def main(argv: list[str]) -> None:
    mode, hub_url, org_id, workspace_id, target, nx, ny, nz, cache_dir = argv
    nx, ny, nz = int(nx), int(ny), int(nz)
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-interop-test")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = BlockModelAPIClient(environment, connector, Cache(cache_dir, mkdir=True))
    async with transport:
        if mode == "report":
            bm_id, rs_id = target.split("/")
            ids = {"workspace_id": workspace_id, "org_id": org_id, "bm_id": bm_id}
            api = ReportsApi(connector)
            spec = await api.get_report_specification(rs_id=rs_id, **ids)
            listed = await api.list_block_model_report_specifications(**ids, offset=0, limit=10)
            summaries = await api.get_report_results_list(rs_id=rs_id, **ids, limit=1)
            latest = summaries.results[0].report_result_uuid
            result = await api.get_report_result(rs_id=rs_id, report_result_uuid=str(latest), **ids)
            started = await api.run_reporting_job(rs_id=rs_id, reporting_job_spec=ReportingJobSpec(), **ids)
            print(
                json.dumps(
                    {
                        "name": spec.name,
                        "revision": spec.revision,
                        "labels": [c.label for c in spec.columns],
                        "aggregations": [c.aggregation.value for c in spec.columns],
                        "density_value": spec.density_value,
                        "last_result_version_id": spec.last_result_version_id,
                        "listed": [s.name for s in listed.results],
                        "units": sorted(u.unit_id for u in listed.referenced_units),
                        "result_uuid": str(result.report_result_uuid),
                        "value_columns": [c.label for c in result.value_columns],
                        "rows": [
                            [row.categories, [cell.value for cell in row.values], [cell.status.value for cell in row.values]]
                            for row in result.result_sets[0].rows
                        ],
                        "job_uuid": str(started.job_uuid),
                        "job_version_id": started.version_id,
                    }
                )
            )
            return
        if mode == "create":
            c = columns(nx, ny, nz)
            table = pa.table(
                {
                    "i": pa.array(c["i"], pa.uint32()),
                    "j": pa.array(c["j"], pa.uint32()),
                    "k": pa.array(c["k"], pa.uint32()),
                    "grade": pa.array(c["grade"], pa.float64()),
                    "count": pa.array(c["count"], pa.int32()),
                    "rock": pa.array(c["rock"], pa.string()),
                }
            )
            grid = RegularGridDefinition(
                model_origin=[100.0, 200.0, 300.0], rotations=[], n_blocks=[nx, ny, nz], block_size=[10.0, 10.0, 5.0]
            )
            bm, version = await client.create_block_model(
                name=target, grid_definition=grid, size_unit_id="m", initial_data=table, units={"grade": "g/t"}
            )
            bm_id, version_id = bm.id, version.version_id
        else:
            bm_id = uuid.UUID(target)
            version_id = None
        result = await client.query_block_model_as_table(
            bm_id,
            columns=["grade", "count", "rock"],
            geometry_columns=GeometryColumns.indices,
            column_headers=ColumnHeaderType.name,
        )
        print(json.dumps({"bm_id": str(bm_id), "version_id": version_id, "columns": digests(result, nx, ny)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
