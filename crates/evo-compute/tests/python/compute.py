"""Submits and awaits compute jobs with the official Python SDK (evo-compute) against an
Evo-compatible server.

Usage (run by tests/python_interop.rs):
    compute.py submit HUB_URL ORG_ID TASK PARAMETERS_JSON
    compute.py wait   HUB_URL JOB_STATUS_URL

`submit` submits the task of topic `geostatistics` and prints the job's status URL; `wait`
awaits a job submitted by someone else and prints its results. The access token comes from
EVO_TOKEN. Prints one JSON line.
"""

import asyncio
import json
import os
import sys
import uuid

from evo.aio import AioTransport
from evo.common import APIConnector
from evo.compute import JobClient
from evo.oauth import AccessTokenAuthorizer


async def main(argv: list[str]) -> None:
    mode, hub_url, *rest = argv
    transport = AioTransport(user_agent="evo-rs-interop-test")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    async with transport:
        if mode == "submit":
            org_id, task, parameters = rest
            job = await JobClient.submit(connector, uuid.UUID(org_id), "geostatistics", task, json.loads(parameters))
            print(json.dumps({"url": job.url}))
        else:
            job = JobClient.from_url(connector, rest[0])
            results = await job.wait_for_results(polling_interval_seconds=0.05)
            print(json.dumps({"results": results}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
