"""Creates and reads point sets with the official Python SDK (evo-objects + pyarrow) against an
Evo-compatible server.

Usage (run by tests/python_interop.rs):
    interop.py create HUB_URL ORG_ID WORKSPACE_ID PATH N CACHE_DIR
    interop.py read   HUB_URL ORG_ID WORKSPACE_ID PATH N CACHE_DIR

`create` makes a point set of N points with the attributes `grade` (float64) and `count`
(int32) from the formulas below (the Rust test uses the same ones); `read` downloads one and
reports its columns. The access token comes from EVO_TOKEN, the CA of the server's TLS blob
listener from SSL_CERT_FILE. Prints one JSON line: the object id and, per column, the row
count and the SHA-256 of its values as little-endian bytes.
"""

import asyncio
import hashlib
import json
import math
import os
import struct
import sys
import uuid

import pyarrow as pa
from evo.aio import AioTransport
from evo.common import APIConnector, Environment
from evo.common.utils import Cache
from evo.oauth import AccessTokenAuthorizer
from evo.objects import ObjectAPIClient


def columns(n: int) -> dict[str, list]:
    return {
        "x": [i * 0.5 for i in range(n)],
        "y": [i * -1.25 for i in range(n)],
        "z": [math.sqrt(i) for i in range(n)],
        "grade": [(i % 7) * 1.1 for i in range(n)],
        "count": [i % 1000 - 500 for i in range(n)],
    }


def digest(values: list, fmt: str) -> str:
    return hashlib.sha256(struct.pack(f"<{len(values)}{fmt}", *values)).hexdigest()


async def main(argv: list[str]) -> None:
    mode, hub_url, org_id, workspace_id, path, n, cache_dir = argv
    n = int(n)
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-interop-test")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    cache = Cache(cache_dir, mkdir=True)
    client = ObjectAPIClient(environment, connector, cache)
    data = client.get_data_client(cache)
    async with transport:
        if mode == "create":
            c = columns(n)
            positions = pa.table({"x": c["x"], "y": c["y"], "z": c["z"]})
            grade = pa.table({"grade": pa.array(c["grade"], pa.float64())})
            count = pa.table({"count": pa.array(c["count"], pa.int32())})
            coordinates = await data.upload_table(positions)
            grade_info = await data.upload_table(grade)
            count_info = await data.upload_table(count)
            object_dict = {
                "schema": "/objects/pointset/1.3.0/pointset.schema.json",
                "uuid": None,
                "name": "from python",
                "bounding_box": {
                    "min_x": min(c["x"]), "max_x": max(c["x"]),
                    "min_y": min(c["y"]), "max_y": max(c["y"]),
                    "min_z": min(c["z"]), "max_z": max(c["z"]),
                },
                "coordinate_reference_system": {"epsg_code": 2193},
                "locations": {
                    "coordinates": coordinates,
                    "attributes": [
                        {"name": "grade", "key": "grade", "attribute_type": "scalar",
                         "nan_description": {"values": []}, "values": grade_info},
                        {"name": "count", "key": "count", "attribute_type": "integer",
                         "nan_description": {"values": []}, "values": count_info},
                    ],
                },
            }
            metadata = await client.create_geoscience_object(path, object_dict)
            object_id = str(metadata.id)
            report = {
                "x": digest(c["x"], "d"), "y": digest(c["y"], "d"), "z": digest(c["z"], "d"),
                "grade": digest(c["grade"], "d"), "count": digest(c["count"], "i"),
            }
        elif mode == "read":
            downloaded = await client.download_object_by_path(path)
            object_id = str(downloaded.metadata.id)
            obj = downloaded.as_dict()
            positions = await downloaded.download_table(obj["locations"]["coordinates"])
            report = {}
            for axis in positions.column_names:
                report[axis] = digest(positions.column(axis).to_pylist(), "d")
            for attribute in obj["locations"]["attributes"]:
                table = await downloaded.download_table(attribute["values"])
                fmt = "d" if table.schema.field(0).type == pa.float64() else "i"
                report[attribute["name"]] = digest(table.column(0).to_pylist(), fmt)
            report["rows"] = positions.num_rows
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps({"object_id": object_id, "columns": report}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
