"""Submits and awaits compute jobs with the official Python SDK (evo-compute) against an
Evo-compatible server.

Usage (run by tests/python_interop.rs):
    compute.py submit HUB_URL ORG_ID TASK PARAMETERS_JSON
    compute.py wait   HUB_URL JOB_STATUS_URL
    compute.py cancel HUB_URL JOB_STATUS_URL
    compute.py idw    HUB_URL ORG_ID SOURCE_URL TARGET_URL
    compute.py params HUB_URL SOURCE_URL TARGET_URL

`idw` builds the SDK's own typed IDWParameters (inverse distance weighting of the source's
`grade` onto a new attribute `by_python_idw` of the target, a sphere of range 3, at most 2
samples, power 2), runs them with the SDK's IDWRunner and prints the parameters it sent and the
result.

`params` builds the SDK's typed parameters of the simulation, distribution and economic tasks
(consim, conditional-turning-bands, simulation-report, location-wise, continuous-distribution,
loss-calculation, profit-calculation) on the two objects and prints them as the SDK sends them;
nothing is submitted.

`submit` submits the task of topic `geostatistics` and prints the job's status URL; `wait`
awaits a job submitted by someone else and prints its results, or the exception the SDK
raised (its class, status and content) when the job failed or was cancelled; `cancel` cancels a
job submitted by someone else. The access token comes from
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
        elif mode == "params":
            print(json.dumps({"parameters": simulation_and_economic_parameters(*rest)}))
        elif mode == "cancel":
            await JobClient.from_url(connector, rest[0]).cancel()
            print(json.dumps({"cancelled": rest[0]}))
        else:
            job = JobClient.from_url(connector, rest[0])
            try:
                results = await job.wait_for_results(polling_interval_seconds=0.05)
            except Exception as e:  # what the SDK raises is the answer
                raised = {"raised": type(e).__name__, "status": getattr(e, "status", None), "content": getattr(e, "content", None)}
                print(json.dumps(raised, default=str))
            else:
                print(json.dumps({"results": results}))


def simulation_and_economic_parameters(source: str, target: str) -> dict:
    """The seven tasks' parameters, built as tests/python_interop.rs builds them in Rust."""
    from evo.compute.tasks import Ellipsoid, EllipsoidRanges, SearchNeighborhood, Source, Target
    from evo.compute.tasks.common import CreateAttribute
    from evo.compute.tasks.geostatistics import conditioned_simulator as consim
    from evo.compute.tasks.geostatistics import continuous_distribution as cd
    from evo.compute.tasks.geostatistics import location_wise as lw
    from evo.compute.tasks.geostatistics import simulation_report as sr
    from evo.compute.tasks.geostatistics.conditional_turning_bands import ConditionalTurningBandsParameters
    from evo.compute.tasks.geostatistics.loss_calculation import LossCalculationParameters, MaterialCategory
    from evo.compute.tasks.geostatistics.profit_calculation import ProfitCalculationParameters

    grade = "locations.attributes[?name=='grade']"
    neighborhood = SearchNeighborhood(ellipsoid=Ellipsoid(ranges=EllipsoidRanges(3.0, 3.0, 3.0)), max_samples=2)
    economics = dict(
        source=Source(object=source, attribute=grade),
        target=Target.new_attribute(target, "money"),
        # Each task module has its own MaterialCategory model: plain dicts suit both.
        material_categories=[MaterialCategory(label="waste").model_dump(), {"cutoff_grade": 0.5, "metal_price": 200.0, "label": "ore"}],
        processing_cost=20.0,
        mining_waste_cost=5.0,
        mining_ore_cost=10.0,
        metal_recovery_fraction=0.85,
    )
    tasks = {
        "consim": consim.ConSimParameters(
            source_object=source,
            source_attribute=grade,
            target_object=target,
            neighborhood=neighborhood,
            variogram_model=target,
            distribution=consim.DistributionParams(
                tail_extrapolation=consim.TailExtrapolationParams(upper=consim.UpperTailParams(power=0.5, max=10.0))
            ),
            number_of_simulations=3,
            random_seed=7,
            loss_calculation=consim.ConSimLossCalculation(
                material_categories=[consim.ConSimMaterialCategory(cutoff_grade=0.5, metal_price=200.0, label="ore")],
                processing_cost=20.0,
                mining_waste_cost=5.0,
                mining_ore_cost=10.0,
                metal_recovery_fraction=0.85,
                target_attribute=CreateAttribute(name="loss"),
            ),
            location_wise_quantiles=[0.1, 0.9],
            perform_validation=True,
            report_context=consim.ReportContext(title="Run", details=[consim.ValidationReportContextItem(label="by", value="test")]),
            report_mean_thresholds=consim.ReportMeanThresholds(acceptable=0.05, marginal=0.1),
        ),
        "conditional-turning-bands": ConditionalTurningBandsParameters(
            source=source,
            source_attribute=grade,
            target=target,
            neighborhood=neighborhood,
            distribution=target,
            variogram_model=target,
            kriging_method="ordinary",
            realizations=4,
        ),
        "simulation-report": sr.SimulationReportParameters(
            simulation_source=source,
            source_attribute=grade,
            simulation_target=target,
            point_simulations="p",
            point_simulations_normal_score="pn",
            block_simulations="b",
            block_simulations_normal_score="bn",
            variogram_model=target,
            neighborhood=neighborhood,
            distribution=sr.SimulationReportDistribution(weights="w"),
            number_of_simulations=4,
        ),
        "location-wise": lw.LocationWiseParameters(
            source=Source(object=source, attribute=grade),
            target=lw.LocationWiseTarget(object=target),
            summary=True,
            quantiles=[0.1, 0.5],
            probability_above_cutoff=lw.ProbabilityAboveCutoff(cutoffs=[1.0, 2.0]),
        ),
        "continuous-distribution": cd.ContinuousDistributionParameters(
            source=Source(object=source, attribute=grade),
            tail_extrapolation=cd.TailExtrapolation(upper=cd.UpperTail(power=0.5, max=10.0)),
            target=cd.DistributionTarget(reference=target),
        ),
        "loss-calculation": LossCalculationParameters(**economics),
        "profit-calculation": ProfitCalculationParameters(**economics),
    }
    return {k: v.model_dump(mode="json", by_alias=True, exclude_none=True) for k, v in tasks.items()}


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
