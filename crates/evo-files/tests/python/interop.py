"""Moves one file with the official Python SDK (evo-files) against an Evo-compatible server.

Usage (run by tests/python_interop.rs):
    interop.py upload   HUB_URL ORG_ID WORKSPACE_ID LOCAL_FILE REMOTE_PATH
    interop.py download HUB_URL ORG_ID WORKSPACE_ID REMOTE_PATH LOCAL_FILE

The access token comes from the EVO_TOKEN environment variable (never the command line), and the
CA of the server's TLS blob listener from SSL_CERT_FILE. Prints one JSON line describing the file.
"""

import asyncio
import json
import os
import sys
import uuid

from evo.aio import AioTransport
from evo.common import APIConnector, Environment
from evo.files import FileAPIClient
from evo.oauth import AccessTokenAuthorizer


async def main(argv: list[str]) -> None:
    mode, hub_url, org_id, workspace_id, first, second = argv
    environment = Environment(hub_url=hub_url, org_id=uuid.UUID(org_id), workspace_id=uuid.UUID(workspace_id))
    transport = AioTransport(user_agent="evo-rs-interop-test")
    connector = APIConnector(hub_url, transport, AccessTokenAuthorizer(os.environ["EVO_TOKEN"]))
    client = FileAPIClient(environment, connector)
    async with transport:
        if mode == "upload":
            local, remote = first, second
            upload = await client.prepare_upload_by_path(remote)
            await upload.upload_from_path(local, transport)
            metadata = await client.get_file_by_id(upload.file_id, upload.version_id)
        elif mode == "download":
            remote, local = first, second
            download = await client.prepare_download_by_path(remote)
            await download.download_to_path(local, transport, overwrite=True)
            metadata = download.metadata
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    print(
        json.dumps(
            {
                "file_id": str(metadata.id),
                "version_id": metadata.version_id,
                "name": metadata.name,
                "size": metadata.size,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
