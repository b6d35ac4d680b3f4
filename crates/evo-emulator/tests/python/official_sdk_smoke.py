"""Drives the evo-rs emulator with the official Seequent Evo Python SDK, unchanged.

Run by tests/python_sdk.rs. Environment: EMU_BASE (discovery/IMS base URL), EMU_CLIENT_ID,
EMU_CLIENT_SECRET, EMU_USER_ID (the emulator's test user), SSL_CERT_FILE (the emulator's CA, for the
https blob host on port 443), EMU_CENTRAL_ID / EMU_CENTRAL_HOST (the Central instance seeded for the
organization, which discovery reports under `accounts`). Exits non-zero with a message on the first failed check.
"""

import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

from evo.aio import AioTransport
from evo.common import APIConnector
from evo.common.exceptions import GoneException, NotFoundException
from evo.discovery import DiscoveryAPIClient
from evo.files import FileAPIClient
from evo.oauth import ClientCredentialsAuthorizer, EvoScopes, OAuthConnector
from evo.workspaces import WorkspaceAPIClient, WorkspaceRole


def check(cond, what):
    if not cond:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


async def main() -> None:
    base = os.environ["EMU_BASE"]
    transport = AioTransport(user_agent="evo-emulator-official-sdk-smoke")
    oauth = OAuthConnector(
        transport=transport,
        client_id=os.environ["EMU_CLIENT_ID"],
        client_secret=os.environ["EMU_CLIENT_SECRET"],
        base_uri=base.rstrip("/"),
    )
    auth = ClientCredentialsAuthorizer(oauth, scopes=EvoScopes.all_evo)
    async with transport:
        # Discovery
        async with APIConnector(base, transport, auth) as conn:
            orgs = await DiscoveryAPIClient(conn).list_organizations()
        check(len(orgs) >= 1, "discovery lists an organization")
        org = orgs[0]
        check(len(org.hubs) == 1, "the organization has one hub")
        hub = org.hubs[0]
        central = org.central
        check(
            central is not None
            and str(central.id) == os.environ["EMU_CENTRAL_ID"]
            and central.host == os.environ["EMU_CENTRAL_HOST"]
            and central.organization_name == org.display_name,
            f"the SDK links the organization to its Central instance ({central})",
        )
        check(hub.url.rstrip("/") == base.rstrip("/"), f"hub url {hub.url} is the emulator")

        hub_conn = APIConnector(hub.url, transport, auth)
        ws_client = WorkspaceAPIClient(hub_conn, org.id)

        # Workspaces
        health = await ws_client.get_service_health()
        check(health is not None, "workspace health check")
        suffix = uuid.uuid4().hex[:8]
        ws = await ws_client.create_workspace(
            name=f"SDK smoke {suffix}",
            description="made by the official SDK",
            labels=["smoke"],
            bounding_box_coordinates=[(100.0, 0.0), (101.0, 0.0), (101.0, 1.0), (100.0, 1.0), (100.0, 0.0)],
        )
        check(ws.display_name == f"SDK smoke {suffix}", "create_workspace returns the workspace")
        check(ws.user_role == WorkspaceRole.owner, "the creator is owner")
        other = await ws_client.create_workspace(name=f"SDK other {suffix}")
        page = await ws_client.list_workspaces(limit=1)
        check(page.total >= 2 and len(page.items()) == 1, f"list_workspaces pages (total {page.total})")
        everything = await ws_client.list_all_workspaces(limit=1)
        check({w.id for w in everything} >= {ws.id, other.id}, "list_all_workspaces follows the pages")
        summary = await ws_client.list_workspaces_summary()
        check(any(s.id == ws.id for s in summary.items()), "list_workspaces_summary")
        got = await ws_client.get_workspace(ws.id)
        check(got.description == "made by the official SDK" and got.labels == ["smoke"], "get_workspace")
        updated = await ws_client.update_workspace(ws.id, description="changed")
        check(updated.description == "changed" and updated.display_name == ws.display_name, "update_workspace")

        # Roles
        me = await ws_client.get_current_user_role(ws.id)
        check(me.role == WorkspaceRole.owner, "get_current_user_role")
        guest = uuid.uuid4()
        assigned = await ws_client.assign_user_role(ws.id, guest, WorkspaceRole.viewer)
        check(assigned.user_id == guest and assigned.role == WorkspaceRole.viewer, "assign_user_role")
        users = await ws_client.list_user_roles(ws.id)
        check(any(u.user_id == guest for u in users), "list_user_roles shows the new viewer")
        await ws_client.delete_user_role(ws.id, guest)
        users = await ws_client.list_user_roles(ws.id)
        check(not any(u.user_id == guest for u in users), "delete_user_role")

        # Delete and restore
        await ws_client.delete_workspace(other.id)
        try:
            await ws_client.get_workspace(other.id)
            check(False, "a deleted workspace is not returned")
        except (GoneException, NotFoundException):
            check(True, "get_workspace of a deleted workspace fails")
        deleted = await ws_client.get_workspace(other.id, deleted=True)
        check(deleted.id == other.id, "get_workspace(deleted=True)")
        await ws_client.restore_deleted_workspace(other.id)
        restored = await ws_client.get_workspace(other.id)
        check(restored.id == other.id, "restore_deleted_workspace")

        # Files: a 9 MiB multi-block upload and download, bytes compared
        files = FileAPIClient(ws.get_environment(), hub_conn)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "source.bin"
            data = os.urandom(9 * 1024 * 1024 + 123)
            src.write_bytes(data)
            upload = await files.prepare_upload_by_path("smoke/data set.bin")
            await upload.upload_from_path(src, transport)
            meta = await files.get_file_by_path("smoke/data set.bin")
            check(meta.size == len(data), f"the uploaded file has size {meta.size}")
            check(meta.name == "data set.bin", "file name")
            listing = await files.list_files()
            check(any(f.id == meta.id for f in listing.items()), "list_files shows the file")
            download = await files.prepare_download_by_path("smoke/data set.bin")
            dst = Path(tmp) / "downloaded.bin"
            await download.download_to_path(dst, transport)
            check(dst.read_bytes() == data, "downloaded bytes equal uploaded bytes")

            # A second version by id, then versions
            src.write_bytes(b"second version")
            upload2 = await files.prepare_upload_by_id(meta.id)
            await upload2.upload_from_path(src, transport)
            versions = await files.list_versions_by_id(meta.id)
            check(len(versions) == 2, f"two versions ({len(versions)})")

            await files.delete_file_by_id(meta.id)
            restored_meta = await files.restore_file_by_id(meta.id)
            check(restored_meta is None, "restore without a path change answers 204")
            again = await files.get_file_by_id(meta.id)
            check(again.size == len(b"second version"), "the restored file is the latest version")
    print("official SDK smoke test passed")


if __name__ == "__main__":
    asyncio.run(main())
