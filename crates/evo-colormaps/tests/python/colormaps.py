"""Creates and reads colormaps with the official Python SDK (evo-colormaps) against an
Evo-compatible server.

Usage (run by tests/python_interop.rs):
    colormaps.py create HUB_URL ORG_ID WORKSPACE_ID
    colormaps.py read   HUB_URL ORG_ID WORKSPACE_ID COLORMAP_ID
    colormaps.py associate    HUB_URL ORG_ID WORKSPACE_ID OBJECT_ID COLORMAP_ID
    colormaps.py associations HUB_URL ORG_ID WORKSPACE_ID OBJECT_ID

`associate` attaches the colormap to the object's attribute `by_python`; `associations` lists
the object's associations (printed as a list of {id, attribute_id, colormap_id, colormap_uri}).

`create` makes the continuous colormap below; `read` reads one. The access token comes from
EVO_TOKEN. Prints one JSON line: the colormap's id, name, kind and fields.
"""

import asyncio
import json
import os
import sys
import uuid

from evo.aio import AioTransport
from evo.colormaps import ColormapAPIClient
from evo.colormaps.data import Association, CategoryColormap, ContinuousColormap, DiscreteColormap
from evo.common import APIConnector, Environment
from evo.oauth import AccessTokenAuthorizer


def describe(meta) -> dict:
    c = meta.colormap
    out = {"id": str(meta.id), "name": meta.name, "colors": c.colors}
    if isinstance(c, ContinuousColormap):
        out.update(kind="continuous", attribute_controls=c.attribute_controls, gradient_controls=c.gradient_controls)
    elif isinstance(c, DiscreteColormap):
        out.update(kind="discrete", end_points=c.end_points, end_inclusive=c.end_inclusive)
    elif isinstance(c, CategoryColormap):
        out.update(kind="category", map=c.map)
    return out


def association(meta) -> dict:
    return {
        "id": str(meta.id),
        "attribute_id": meta.attribute_id,
        "colormap_id": str(meta.colormap_id),
        "colormap_uri": meta.colormap_uri,
    }


async def main(argv: list[str]) -> None:
    mode, hub_url, org_id, workspace_id, *rest = argv
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-interop-test")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = ColormapAPIClient(environment, connector)
    async with transport:
        if mode == "create":
            colormap = ContinuousColormap(
                colors=[[0, 0, 255], [0, 255, 0], [255, 0, 0]],
                attribute_controls=[0.0, 2.5, 10.0],
                gradient_controls=[0.0, 0.5, 1.0],
            )
            meta = await client.create_colormap(colormap, "made by python")
        elif mode == "associate":
            object_id, colormap_id = rest
            made = await client.create_association(
                uuid.UUID(object_id), Association(attribute_id="by_python", colormap_id=uuid.UUID(colormap_id))
            )
            print(json.dumps(association(made)))
            return
        elif mode == "associations":
            listed = await client.get_association_collection(uuid.UUID(rest[0]))
            print(json.dumps(sorted((association(a) for a in listed), key=lambda a: a["attribute_id"])))
            return
        else:
            meta = await client.get_colormap_by_id(uuid.UUID(rest[0]))
    print(json.dumps(describe(meta)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
