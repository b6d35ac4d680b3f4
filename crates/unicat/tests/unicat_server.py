"""A Unicat server for the connector's tests: python-socketio (PyPI) on aiohttp.

Written from the protocol as `auto-update.md` sections 1-2 describe Unicat and the official
`unicat` Python package (not from the Rust client):

* REST: `POST /api/p/<project>/<endpoint>` (project API) and `POST /api/<endpoint>` (global API),
  JSON in, the envelope `{success, result, data}` out. `POST /api/p/<project>/auth {api_key}`
  answers with a JWT in the `Authorization` response header; every other call needs
  `Authorization: Bearer <jwt>` and is answered `401` with
  `WWW-Authenticate: Bearer realm="JWT access to Unicat."` when the JWT is not valid. Any answer
  may carry a rotated JWT in its `Authorization` header.
* `data` holds the referenced entities by type, then by key; `result` of auth/init carries
  `cc.cursor`, `cursor` and `cc.version`.
* Sync API: `POST /sync/get {cc_cursor, project, cursor}` answers `{sync: [...]}` plus a
  `warning` while more is pending (pages of --page-size items); `POST /sync/cursors`.
* Socket.IO at path `/sync/io`: CONNECT auth `{"JWT": <token>}`; `initsync {cc.cursor, project,
  cursor}` acknowledged with the items after those cursors; live `sync` events (a list of
  items) after that; `authorization` events `{"JWT": <new token>}`.
* Sync items `{type, cursor, action, data_type, data_key}`: `type` is `cc` for the global stream
  and the project gid for the project stream; data items carry no `data` (clients fetch them);
  job items (`data_type: jobs`) carry `{job, status, info, project_gid, created_on, updated_on}`.

Test controls (plain JSON over HTTP on the same port): /control/*; see the handlers below.
Usage: unicat_server.py --port N [--state FILE] [--page-size N]
Prints "LISTENING <port>" once ready.
"""

import argparse
import asyncio
import base64
import copy
import json
import os
import secrets

import socketio
from aiohttp import web

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--state", default=None)
parser.add_argument("--page-size", type=int, default=100)
args = parser.parse_args()

PROJECT = "p-test"
OTHER_PROJECT = "p-other"
USER = "u-owner"
API_KEY = "secret-api-key"
REALM = 'Bearer realm="JWT access to Unicat."'

# Which store an endpoint reads, and the name of its key parameter (the official fetch map).
PROJECT_GETS = {
    "records/get": ("records", "record"),
    "definitions/get": ("definitions", "definition"),
    "classes/get": ("classes", "class"),
    "fields/get": ("fields", "field"),
    "layouts/get": ("layouts", "layout"),
    "assets/get": ("assets", "asset"),
    "queries/get": ("queries", "query"),
    "modules/get": ("modules", "module"),
}
GLOBAL_GETS = {
    "users/get": ("cc.users", "user"),
    "projects/get": ("cc.projects", "project"),
}
BASE_TYPES = ("definitions", "classes", "fields", "layouts", "queries")
GLOBAL_TYPES = ("cc.users", "cc.projects", "cc.projects_members", "cc.languages")


def fresh_state():
    return {
        "head": {"cc": 0, "project": 0},
        "log": [],
        "version": "2025.07.001",
        "jwt_seq": 0,
        "tokens": [],
        "api_key": API_KEY,
        "stores": {
            "records": {
                "rec-1": {"gid": "rec-1", "definition": "def-1", "fields": {"en": {"name": "First"}}},
                "rec-2": {"gid": "rec-2", "definition": "def-1", "fields": {"en": {"name": "Second"}}},
            },
            "definitions": {"def-1": {"gid": "def-1", "name": "article", "fields": ["f-name"]}},
            "classes": {},
            "fields": {"f-name": {"gid": "f-name", "name": "name", "type": "textline"}},
            "layouts": {},
            "assets": {},
            "queries": {},
            "modules": {},
            "cc.users": {USER: {"gid": USER, "username": "owner"}},
            "cc.projects": {PROJECT: {"gid": PROJECT, "name": "Test project"}},
            "cc.projects_members": {
                f"{PROJECT}/{USER}": {"project_gid": PROJECT, "user_gid": USER, "status": "active"},
            },
            "cc.languages": {},
        },
        "backup": None,
    }


state = fresh_state()
if args.state and os.path.exists(args.state):
    with open(args.state) as f:
        state = json.load(f)

# Not persisted: what this process saw.
stats = {"calls": {}, "rest_tokens": [], "socket_tokens": [], "initsyncs": [], "rejected": 0}
# The next `delay` authenticated answers wait `delay_ms` before checking the token.
slow = {"count": 0, "ms": 0}
# The next `rotate` authenticated answers carry a new JWT (the old one stops working).
rotate_rest = {"count": 0}
synced = set()  # sids that sent initsync (they get live events)


def persist():
    if args.state:
        tmp = args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, args.state)


def b64(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def issue_jwt(keep_old=False):
    """A new JWT (header.payload.signature; `iat` grows with every token issued)."""
    state["jwt_seq"] += 1
    payload = {"sub": USER, "project": PROJECT, "iat": 1_760_000_000 + state["jwt_seq"]}
    token = b64({"alg": "HS256", "typ": "JWT"}) + "." + b64(payload) + "." + secrets.token_urlsafe(16)
    state["tokens"] = (state["tokens"] if keep_old else []) + [token]
    persist()
    return token


def count(name):
    stats["calls"][name] = stats["calls"].get(name, 0) + 1


def envelope(result, data=None, status=200, headers=None):
    return web.json_response(
        {"success": True, "result": result, "data": data or {}}, status=status, headers=headers
    )


def failure(code, message, info=None, status=200, headers=None):
    body = {"success": False, "result": {"code": code, "message": message, "info": info or {}}, "data": {}}
    return web.json_response(body, status=status, headers=headers)


def members_data(keys):
    return [state["stores"]["cc.projects_members"][k] for k in keys]


def snapshot():
    """The answer of auth and init: base data, the user, the project, its members, cursors."""
    s = state["stores"]
    data = {t: copy.deepcopy(s[t]) for t in BASE_TYPES}
    data["cc.users"] = copy.deepcopy(s["cc.users"])
    data["cc.projects"] = {PROJECT: s["cc.projects"][PROJECT]}
    data["cc.projects_members"] = members_data(
        [k for k in s["cc.projects_members"] if k.startswith(PROJECT + "/")]
    )
    data["cc.languages"] = copy.deepcopy(s["cc.languages"])
    result = {
        "cc.cursor": state["head"]["cc"],
        "cursor": state["head"]["project"],
        "cc.version": state["version"],
        "project": PROJECT,
        "user": USER,
    }
    return result, data


def bearer(request):
    value = request.headers.get("Authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else None


async def authenticated(request, handler):
    """Checks the JWT (after an optional delay), runs the handler, rotates the JWT if asked."""
    token = bearer(request)
    stats["rest_tokens"].append(token)
    if slow["count"] > 0:
        slow["count"] -= 1
        await asyncio.sleep(slow["ms"] / 1000)
    if token not in state["tokens"]:
        return failure(401, "Unauthorized", status=401, headers={"WWW-Authenticate": REALM})
    body = await request.json() if request.can_read_body else {}
    response = await handler(body or {})
    if rotate_rest["count"] > 0 and response.status == 200:
        rotate_rest["count"] -= 1
        response.headers["Authorization"] = issue_jwt()
    return response


async def project_api(request):
    project = request.match_info["project"]
    endpoint = request.match_info["endpoint"]
    count("/" + endpoint)
    if project != PROJECT:
        return failure(403, "Forbidden", {"project": project}, status=403)
    if endpoint == "auth":
        body = await request.json()
        if body.get("api_key") != state["api_key"]:
            return failure(401, "Invalid API key", status=401, headers={"WWW-Authenticate": REALM})
        result, data = snapshot()
        return envelope(result, data, headers={"Authorization": issue_jwt(keep_old=True)})

    async def handle(body):
        if endpoint == "init":
            result, data = snapshot()
            return envelope(result, data)
        if endpoint in PROJECT_GETS:
            store, param = PROJECT_GETS[endpoint]
            key = body.get(param)
            entity = state["stores"][store].get(key)
            if entity is None:
                return failure(400, f"{param} not found", {param: key}, status=400)
            return envelope({param: key}, {store: {key: entity}})
        return failure(501, "Not implemented", {"endpoint": endpoint}, status=501)

    return await authenticated(request, handle)


async def global_api(request):
    endpoint = request.match_info["endpoint"]
    count("//" + endpoint)

    async def handle(body):
        if endpoint in GLOBAL_GETS:
            store, param = GLOBAL_GETS[endpoint]
            key = body.get(param)
            entity = state["stores"][store].get(key)
            if entity is None:
                return failure(400, f"{param} not found", {param: key}, status=400)
            return envelope({param: key}, {store: {key: entity}})
        if endpoint == "members/get":
            key = f"{body.get('project')}/{body.get('member')}"
            if key not in state["stores"]["cc.projects_members"]:
                return failure(400, "member not found", {"member": key}, status=400)
            return envelope({"member": key}, {"cc.projects_members": members_data([key])})
        return failure(501, "Not implemented", {"endpoint": endpoint}, status=501)

    return await authenticated(request, handle)


def items_after(cc_cursor, cursor):
    return [
        item for item in state["log"]
        if item["cursor"] > (cc_cursor if item["type"] == "cc" else cursor)
    ]


async def sync_api(request):
    endpoint = request.match_info["endpoint"]
    count("/sync/" + endpoint)

    async def handle(body):
        if endpoint == "cursors":
            return envelope({"cc.cursor": state["head"]["cc"], "cursor": state["head"]["project"]})
        if endpoint == "get":
            if body.get("project") != PROJECT:
                return failure(403, "Forbidden", {"project": body.get("project")}, status=403)
            pending = items_after(int(body.get("cc_cursor", 0)), int(body.get("cursor", 0)))
            page = pending[: args.page_size]
            result = {"sync": page}
            if len(pending) > len(page):
                result["warning"] = "more sync data pending"
            return envelope(result)
        return failure(501, "Not implemented", {"endpoint": endpoint}, status=501)

    return await authenticated(request, handle)


sio = socketio.AsyncServer(async_mode="aiohttp")
app = web.Application()
sio.attach(app, socketio_path="sync/io")


@sio.event
async def connect(sid, environ, auth):
    token = auth.get("JWT") if isinstance(auth, dict) else None
    stats["socket_tokens"].append(token)
    if token not in state["tokens"]:
        stats["rejected"] += 1
        raise socketio.exceptions.ConnectionRefusedError("invalid JWT")


@sio.event
async def disconnect(sid, *_reason):
    synced.discard(sid)


@sio.on("initsync")
async def initsync(sid, data):
    data = data or {}
    stats["initsyncs"].append(data)
    if data.get("project") != PROJECT:
        return []
    synced.add(sid)
    return items_after(int(data.get("cc.cursor", 0)), int(data.get("cursor", 0)))


async def emit_sync(items):
    for sid in list(synced):
        await sio.emit("sync", items, to=sid)


def append(stream, action, data_type, data_key, data=None):
    """Appends an item to a stream's log (at the next cursor) and returns it."""
    state["head"][stream] += 1
    item = {
        "type": "cc" if stream == "cc" else PROJECT,
        "cursor": state["head"][stream],
        "action": action,
        "data_type": data_type,
        "data_key": data_key,
    }
    if data is not None:
        item["data"] = data
    state["log"].append(item)
    persist()
    return item


def stream_of(data_type):
    return "cc" if data_type.startswith("cc.") else "project"


async def control_put(request):
    """Inserts or updates an entity: {data_type, key, value, emit?} (emit false: the live event
    is lost, as Socket.IO delivers at most once; the item stays in the log)."""
    body = await request.json()
    store = state["stores"].setdefault(body["data_type"], {})
    action = "UPDATE" if body["key"] in store else "INSERT"
    store[body["key"]] = body["value"]
    item = append(stream_of(body["data_type"]), action, body["data_type"], body["key"])
    if body.get("emit", True):
        await emit_sync([item])
    return web.json_response(item)


async def control_delete(request):
    body = await request.json()
    state["stores"].get(body["data_type"], {}).pop(body["key"], None)
    item = append(stream_of(body["data_type"]), "DELETE", body["data_type"], body["key"])
    if body.get("emit", True):
        await emit_sync([item])
    return web.json_response(item)


async def control_item(request):
    """Appends an item of any data type (also unknown ones) to a stream: {stream, action,
    data_type, data_key, data?}."""
    body = await request.json()
    item = append(body["stream"], body["action"], body["data_type"], body["data_key"], body.get("data"))
    if body.get("emit", True):
        await emit_sync([item])
    return web.json_response(item)


async def control_emit(request):
    """Emits exactly these items (replays, lagging cursors, junk) without logging them."""
    body = await request.json()
    await emit_sync(body["items"])
    return web.json_response({"to": len(synced)})


async def control_version(request):
    body = await request.json()
    state["version"] = body["version"]
    item = append("cc", "UPDATE", "cc.version", body["version"])
    await emit_sync([item])
    return web.json_response(item)


async def control_backup(request):
    state["backup"] = copy.deepcopy({t: state["stores"][t] for t in PROJECT_GETS_STORES})
    persist()
    return web.json_response({})


PROJECT_GETS_STORES = [store for store, _ in PROJECT_GETS.values()]


async def control_restore(request):
    """Restores the backup: job items queued, processing, done (cc stream); the restored data
    itself produces no items, so clients re-initialise on `done`."""
    job_token = "job-" + secrets.token_hex(4)
    items = []
    for status in ("queued", "processing", "done"):
        if status == "done":
            state["stores"].update(copy.deepcopy(state["backup"]))
        data = {
            "job": "restore_project",
            "status": status,
            "info": {"total": 2, "remaining": 0 if status == "done" else 2},
            "project_gid": PROJECT,
            "created_on": 1_760_000_000,
            "updated_on": 1_760_000_001,
        }
        item = append("cc", "UPDATE", "jobs", job_token, data)
        items.append(item)
        await emit_sync([item])
    return web.json_response({"items": items})


async def control_rotate(request):
    """Rotates the JWT over Socket.IO: the old one stops working, an `authorization` event
    carries the new one."""
    token = issue_jwt()
    await sio.emit("authorization", {"JWT": token})
    return web.json_response({"token": token})


async def control_rotate_rest(request):
    body = await request.json()
    rotate_rest["count"] = body.get("count", 1)
    return web.json_response({})


async def control_expire(request):
    """Every JWT stops working (as when they expire)."""
    state["tokens"] = []
    persist()
    return web.json_response({})


async def control_api_key(request):
    body = await request.json()
    state["api_key"] = body["api_key"]
    persist()
    return web.json_response({})


async def control_slow(request):
    body = await request.json()
    slow["count"], slow["ms"] = body.get("count", 1), body["ms"]
    return web.json_response({})


async def control_disconnect(request):
    for sid in list(synced):
        await sio.disconnect(sid)
    return web.json_response({})


async def control_stats(request):
    return web.json_response({**stats, "head": state["head"], "tokens": state["tokens"], "synced": len(synced)})


async def control_store(request):
    return web.json_response(state["stores"])


for name, handler in [
    ("put", control_put),
    ("delete", control_delete),
    ("item", control_item),
    ("emit", control_emit),
    ("version", control_version),
    ("backup", control_backup),
    ("restore", control_restore),
    ("rotate", control_rotate),
    ("rotate_rest", control_rotate_rest),
    ("expire", control_expire),
    ("api_key", control_api_key),
    ("slow", control_slow),
    ("disconnect", control_disconnect),
]:
    app.router.add_post("/control/" + name, handler)
app.router.add_get("/control/stats", control_stats)
app.router.add_get("/control/store", control_store)
app.router.add_post("/api/p/{project}/{endpoint:.+}", project_api)
app.router.add_post("/sync/{endpoint:get|cursors}", sync_api)
app.router.add_post("/api/{endpoint:.+}", global_api)


async def main():
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    print(f"LISTENING {args.port}", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
