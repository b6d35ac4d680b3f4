"""A small Sync API shaped like the seed's (Unicat) socket.io Sync API, for evo-sync's tests.

Served by python-socketio (PyPI) on aiohttp. Socket.IO path /sync/io; CONNECT auth {"JWT": token};
`initsync {cc.cursor, project, cursor}` acknowledged with the catch-up list; live `sync` events
(lists of items {type, cursor, action, data_type, data_key, data}); `authorization` events carry
{"JWT": <rotated token>}; a `cc.version` item carries the version in its data_key. Extension: the initsync ack is {"error": "cursor_expired"} when a cursor is below the
compaction floor or above the head (a restarted, fresh log).

Test control over HTTP (JSON): /control/* and GET /sync/snapshot (the full state with cursors).
Usage: sync_server.py [--port N] [--state FILE] [--ping-interval S] [--ping-timeout S]
Prints "LISTENING <port> <control port>" once ready (the same port unless --certfile is given:
then the Sync API speaks TLS and the control port plain HTTP).
"""

import argparse
import asyncio
import json
import os
import sys

import socketio
from aiohttp import web

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--state", default=None)
parser.add_argument("--ping-interval", type=float, default=25)
parser.add_argument("--ping-timeout", type=float, default=20)
parser.add_argument("--token", default="token-1")
parser.add_argument("--certfile", default=None)
parser.add_argument("--keyfile", default=None)
args = parser.parse_args()

STREAMS = ("cc", "project")


def fresh_state():
    return {
        "head": {"cc": 0, "project": 0},
        "floor": {"cc": 0, "project": 0},
        "log": [],
        # store[stream]["data_type\x1fdata_key"] = data
        "store": {"cc": {}, "project": {}},
        "tokens": [args.token],
        "backup": None,
    }


state = fresh_state()
if args.state and os.path.exists(args.state):
    with open(args.state) as f:
        state = json.load(f)

stats = {"seen_tokens": [], "user_agents": [], "connects": 0, "rejected": 0, "initsyncs": []}


def persist():
    if args.state:
        tmp = args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, args.state)


sio = socketio.AsyncServer(
    async_mode="aiohttp",
    ping_interval=args.ping_interval,
    ping_timeout=args.ping_timeout,
)
app = web.Application()
sio.attach(app, socketio_path="sync/io")


@sio.event
async def connect(sid, environ, auth):
    token = (auth or {}).get("JWT")
    stats["seen_tokens"].append(token)
    stats["user_agents"].append(environ.get("HTTP_USER_AGENT"))
    if token not in state["tokens"]:
        stats["rejected"] += 1
        raise socketio.exceptions.ConnectionRefusedError("invalid token")
    stats["connects"] += 1


@sio.on("initsync")
async def initsync(sid, data):
    stats["initsyncs"].append(data)
    wanted = {"cc": int(data.get("cc.cursor", 0)), "project": int(data.get("cursor", 0))}
    for stream in STREAMS:
        if wanted[stream] < state["floor"][stream] or wanted[stream] > state["head"][stream]:
            return {"error": "cursor_expired"}
    return [item for item in state["log"] if item["cursor"] > wanted[item["type"]]]


def record(stream, action, data_type, data_key, data):
    state["head"][stream] += 1
    item = {
        "type": stream,
        "cursor": state["head"][stream],
        "action": action,
        "data_type": data_type,
        "data_key": data_key,
        "data": data,
    }
    state["log"].append(item)
    key = data_type + "\x1f" + data_key
    if data_type not in ("jobs", "cc.version"):
        if action == "DELETE":
            state["store"][stream].pop(key, None)
        else:
            state["store"][stream][key] = data
    persist()
    return item


async def change(request):
    body = await request.json()
    item = record(body["type"], body["action"], body["data_type"], body["data_key"], body.get("data"))
    if body.get("emit", True):
        await sio.emit("sync", [item])
    return web.json_response(item)


async def emit_raw(request):
    """Emits a sync event with exactly these items (duplicates, reorderings, junk)."""
    body = await request.json()
    await sio.emit("sync", body["items"])
    return web.json_response({})


async def compact(request):
    for stream in STREAMS:
        state["floor"][stream] = state["head"][stream]
    state["log"] = []
    persist()
    return web.json_response(state["floor"])


async def disconnect_all(request):
    for sid in list(sio.manager.get_participants("/", None)):
        await sio.disconnect(sid[0] if isinstance(sid, tuple) else sid)
    return web.json_response({})


async def rotate(request):
    body = await request.json()
    state["tokens"] = [body["token"]]
    persist()
    # Unicat's authorization event carries an object {"JWT": <token>}, not a bare string.
    await sio.emit("authorization", {"JWT": body["token"]})
    return web.json_response({})


async def whoami(request):
    """Echoes the Authorization header that an HTTP client sent."""
    return web.json_response({"authorization": request.headers.get("Authorization")})


async def backup(request):
    state["backup"] = json.loads(json.dumps(state["store"]))
    persist()
    return web.json_response({})


async def restore(request):
    """Restores the backup: the data jumps back, old cursors expire, a job event announces it."""
    state["store"] = json.loads(json.dumps(state["backup"]))
    for stream in STREAMS:
        state["head"][stream] += 1
        state["floor"][stream] = state["head"][stream]
    state["log"] = []
    job = record("cc", "UPDATE", "jobs", "job-restore-1",
                 {"job": "restore_project", "status": "done", "info": {}, "project_gid": "p1"})
    await sio.emit("sync", [job])
    return web.json_response(job)


async def snapshot(request):
    items = []
    for stream in STREAMS:
        for key, data in state["store"][stream].items():
            data_type, data_key = key.split("\x1f", 1)
            items.append({"stream": stream, "data_type": data_type, "data_key": data_key, "data": data})
    return web.json_response({"items": items, "cursors": state["head"]})


async def get_stats(request):
    return web.json_response(stats)


app.router.add_post("/control/change", change)
app.router.add_post("/control/emit_raw", emit_raw)
app.router.add_post("/control/compact", compact)
app.router.add_post("/control/disconnect_all", disconnect_all)
app.router.add_post("/control/rotate", rotate)
app.router.add_post("/control/backup", backup)
app.router.add_post("/control/restore", restore)
app.router.add_get("/control/stats", get_stats)
app.router.add_get("/control/whoami", whoami)
app.router.add_get("/sync/snapshot", snapshot)


async def main():
    runner = web.AppRunner(app)
    await runner.setup()
    ssl_context = None
    if args.certfile:
        import ssl
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    site = web.TCPSite(runner, "127.0.0.1", args.port, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    control_port = port
    if ssl_context is not None:
        # The tests' control client speaks plain HTTP: serve the same app on a second port.
        plain = web.TCPSite(runner, "127.0.0.1", 0)
        await plain.start()
        control_port = plain._server.sockets[0].getsockname()[1]
    print(f"LISTENING {port} {control_port}", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
