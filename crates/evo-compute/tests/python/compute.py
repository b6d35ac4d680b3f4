"""Submits and awaits compute jobs with the official Python SDK (evo-compute) against an
Evo-compatible server.

Usage (run by tests/python_interop.rs):
    compute.py submit HUB_URL ORG_ID TASK PARAMETERS_JSON
    compute.py wait   HUB_URL JOB_STATUS_URL
    compute.py idw    HUB_URL ORG_ID SOURCE_URL TARGET_URL

`idw` builds the SDK's own typed IDWParameters (inverse distance weighting of the source's
`grade` onto a new attribute `by_python_idw` of the target, a sphere of range 3, at most 2
samples, power 2), runs them with the SDK's IDWRunner and prints the parameters it sent and the
result.

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
        elif mode == "idw":
            from evo.common import StaticContext
            from evo.compute.tasks import Ellipsoid, EllipsoidRanges, SearchNeighborhood, Source, Target
            from evo.compute.tasks.geostatistics.idw import IDWParameters, IDWRunner

            org_id, source, target = rest
            params = IDWParameters(
                source=Source(object=source, attribute="locations.attributes[?name=='grade']"),
                target=Target.new_attribute(target, "by_python_idw"),
                neighborhood=SearchNeighborhood(ellipsoid=Ellipsoid(ranges=EllipsoidRanges(3.0, 3.0, 3.0)), max_samples=2),
                power=2.0,
            )
            context = StaticContext(connector=connector, org_id=uuid.UUID(org_id))
            result = await IDWRunner(context, params, polling_interval_seconds=0.05)
            sent = params.model_dump(mode="json", by_alias=True, exclude_none=True)
            # The SDK's other typed parameters on the same objects, only written (not run).
            from evo.compute.tasks.geostatistics.break_ties import BreakTiesParameters
            from evo.compute.tasks import BlockDiscretization
            from evo.compute.tasks.geostatistics.declustering import DeclusteringParameters
            from evo.compute.tasks.geostatistics.knn import KNNParameters
            from evo.compute.tasks.geostatistics.kriging import KrigingParameters
            from evo.compute.tasks.geostatistics.normal_score import NormalScoreParameters

            grade = Source(object=source, attribute="locations.attributes[?name=='grade']")
            neighborhood = SearchNeighborhood(ellipsoid=Ellipsoid(ranges=EllipsoidRanges(3.0, 3.0, 3.0)), max_samples=2)
            others = {
                "knn": KNNParameters(source=grade, target=Target.new_attribute(target, "k"), neighborhood=neighborhood),
                "break-ties": BreakTiesParameters(source=grade, target=Target.new_attribute(target, "b"), neighborhood=neighborhood),
                "kriging": KrigingParameters(
                    source=grade,
                    target=Target.new_attribute(target, "kr"),
                    variogram=target,
                    neighborhood=neighborhood,
                    block_discretization=BlockDiscretization(nx=2, ny=3, nz=1),
                ),
                "declustering": DeclusteringParameters(
                    source=source, grid=target, target=Target.new_attribute(target, "d"), neighborhood=neighborhood
                ),
                "normal-score": NormalScoreParameters(
                    method="forward", source=grade, target=Target.new_attribute(target, "n"), distribution=target
                ),
            }
            dumps = {k: v.model_dump(mode="json", by_alias=True, exclude_none=True) for k, v in others.items()}
            print(json.dumps({"parameters": sent, "others": dumps, "attribute": result.attribute_name, "reference": result.target_reference}))
        else:
            job = JobClient.from_url(connector, rest[0])
            results = await job.wait_for_results(polling_interval_seconds=0.05)
            print(json.dumps({"results": results}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
