"""Tiny fake TAP and JupyterHub servers on 127.0.0.1 for the load-test suites' own tests.

Run as ``python fake_services.py {tap,hub} MODE``; prints the port it listens on, then serves.
TAP modes: ``ok`` (right answers), ``http400`` (every query rejected with HTTP 400),
``error-votable`` (HTTP 200 with QUERY_STATUS=ERROR), ``stuck`` (async jobs stay QUEUED).
Hub modes: ``ok`` (cells print the expected output), ``cell-error`` (every cell raises in the kernel),
``spawn-failed`` (the spawn-progress stream ends with a failed event). Spawns are followed on the
progress event stream (``/hub/api/users/NAME/server/progress``), as JupyterHub 5/6 serves it.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from typing import Any

import tornado.gen
import tornado.ioloop
import tornado.web
import tornado.websocket

TAP_MODE = "ok"
HUB_MODE = "ok"


def votable(rows: int, status: str = "OK", message: str = "") -> bytes:
    """A TAP result document with ``rows`` rows of (objectId, ra)."""
    body = "".join(f"<TR><TD>{1000 + i}</TD><TD>{60.0 + i / 1000:.4f}</TD></TR>" for i in range(rows))
    table = (
        '<TABLE><FIELD name="objectId" datatype="long"/><FIELD name="ra" datatype="double"/>'
        f"<DATA><TABLEDATA>{body}</TABLEDATA></DATA></TABLE>"
        if status == "OK"
        else ""
    )
    return (
        '<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        f'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="{status}">{message}</INFO>{table}'
        "</RESOURCE></VOTABLE>"
    ).encode()


def answer(query: str) -> tuple[int, bytes]:
    """What the fake TAP answers to a query, by mode and by shape of the query."""
    if TAP_MODE == "http400":
        return 400, b"Bad query"
    if TAP_MODE == "error-votable":
        return 200, votable(0, "ERROR", "Could not parse your query")
    if match := re.search(r"TOP (\d+) \"?objectId\"? FROM", query):
        return 200, votable(min(int(match.group(1)), 50))
    if match := re.search(r"IN \(([^)]*)\)", query):
        return 200, votable(len(match.group(1).split(",")))
    if re.search(r"objectId\"? =", query) or "COUNT(*)" in query:
        return 200, votable(1)
    return 200, votable(3)


JOBS: dict[str, dict[str, Any]] = {}


class Sync(tornado.web.RequestHandler):
    def post(self) -> None:
        status, body = answer(self.get_body_argument("QUERY", ""))
        self.set_status(status)
        self.write(body)


class AsyncJobs(tornado.web.RequestHandler):
    def post(self) -> None:
        job_id = uuid.uuid4().hex[:8]
        JOBS[job_id] = {"query": self.get_body_argument("QUERY", ""), "phase": "PENDING", "polls": 0}
        self.redirect(f"/tap/async/{job_id}", status=303)


class JobPhase(tornado.web.RequestHandler):
    def post(self, job_id: str) -> None:
        JOBS[job_id]["phase"] = "EXECUTING"
        self.redirect(f"/tap/async/{job_id}", status=303)

    def get(self, job_id: str) -> None:
        job = JOBS[job_id]
        job["polls"] += 1
        if job["phase"] == "EXECUTING" and TAP_MODE == "stuck":
            job["phase"] = "QUEUED"  # a jammed async queue: the job never runs
        if job["phase"] == "EXECUTING" and job["polls"] > 1:
            job["phase"] = "COMPLETED" if TAP_MODE != "http400" else "ERROR"
        self.write(job["phase"])


class JobResult(tornado.web.RequestHandler):
    def get(self, job_id: str) -> None:
        status, body = answer(JOBS[job_id]["query"])
        self.set_status(status)
        self.write(body)


class JobError(tornado.web.RequestHandler):
    def get(self, job_id: str) -> None:
        self.write(votable(0, "ERROR", "job failed"))


class Job(tornado.web.RequestHandler):
    def delete(self, job_id: str) -> None:
        JOBS.pop(job_id, None)
        self.redirect("/tap/async", status=303)


# -- fake hub ---------------------------------------------------------------------------------
SERVERS: dict[str, dict[str, Any]] = {}
USERS: set[str] = set()


class HubUser(tornado.web.RequestHandler):
    def post(self, name: str) -> None:
        self.set_status(409 if name in USERS else 201)
        USERS.add(name)
        self.write({"name": name})

    def get(self, name: str) -> None:
        if name not in USERS:
            self.set_status(404)
            self.write({"message": f"no such user {name}"})
            return
        server = SERVERS.get(name)
        self.write({"name": name, "servers": {"": server} if server else {}})


class HubToken(tornado.web.RequestHandler):
    def post(self, name: str) -> None:
        self.set_status(201)
        self.write({"token": f"token-{name}"})


class HubServer(tornado.web.RequestHandler):
    def post(self, name: str) -> None:
        SERVERS[name] = {"ready": False, "url": f"/user/{name}/"}
        self.set_status(202)

    def delete(self, name: str) -> None:
        SERVERS.pop(name, None)
        self.set_status(204)


class HubProgress(tornado.web.RequestHandler):
    """The spawn-progress event stream: a pending event, then ready (or failed) with the server's URL."""

    async def get(self, name: str) -> None:
        server = SERVERS.get(name)
        if server is None:
            self.set_status(400)
            self.write({"message": f"{name} has no server pending"})
            return
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.write(f"data: {json.dumps({'progress': 50, 'message': 'Server requested'})}\n\n")
        await self.flush()
        await tornado.gen.sleep(0.05)
        if HUB_MODE == "spawn-failed":
            SERVERS.pop(name, None)
            final = {"progress": 100, "failed": True, "message": "Spawn failed: no image"}
        else:
            server["ready"] = True
            final = {"progress": 100, "ready": True, "message": "Server ready", "url": server["url"]}
        self.write(f"data: {json.dumps(final)}\n\n")


class Kernels(tornado.web.RequestHandler):
    def check_xsrf_cookie(self) -> None:
        return None

    def post(self, name: str) -> None:
        self.set_status(201)
        self.write({"id": uuid.uuid4().hex, "name": "python3"})


class Kernel(tornado.web.RequestHandler):
    def delete(self, name: str, kernel_id: str) -> None:
        self.set_status(204)


class Channels(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        request = json.loads(message)
        parent = request["header"]

        def send(msg_type: str, channel: str, content: dict[str, Any]) -> None:
            self.write_message(
                json.dumps(
                    {
                        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type},
                        "parent_header": parent,
                        "metadata": {},
                        "content": content,
                        "channel": channel,
                    }
                )
            )

        send("status", "iopub", {"execution_state": "busy"})
        if HUB_MODE == "cell-error":
            send(
                "error", "iopub", {"ename": "NameError", "evalue": "name 'x' is not defined", "traceback": []}
            )
            send("execute_reply", "shell", {"status": "error", "ename": "NameError", "evalue": "x"})
        else:
            # The fake "knows" the expected answers of loadtests/data/notebook.yaml.
            text = "332833500\n" if "range(1000)" in request["content"]["code"] else "mean-ok True\n"
            send("stream", "iopub", {"name": "stdout", "text": text})
            send("execute_reply", "shell", {"status": "ok"})
        send("status", "iopub", {"execution_state": "idle"})


def main() -> None:
    global TAP_MODE, HUB_MODE  # noqa: PLW0603 - one fake per process
    kind, mode = sys.argv[1], sys.argv[2]
    if kind == "tap":
        TAP_MODE = mode
        routes: list[Any] = [
            (r"/tap/sync", Sync),
            (r"/tap/async", AsyncJobs),
            (r"/tap/async/(\w+)/phase", JobPhase),
            (r"/tap/async/(\w+)/results/result", JobResult),
            (r"/tap/async/(\w+)/error", JobError),
            (r"/tap/async/(\w+)", Job),
        ]
    else:
        HUB_MODE = mode
        routes = [
            (r"/hub/api/users/([\w-]+)", HubUser),
            (r"/hub/api/users/([\w-]+)/tokens", HubToken),
            (r"/hub/api/users/([\w-]+)/server", HubServer),
            (r"/hub/api/users/([\w-]+)/server/progress", HubProgress),
            (r"/user/([\w-]+)/api/kernels", Kernels),
            (r"/user/([\w-]+)/api/kernels/(\w+)", Kernel),
            (r"/user/([\w-]+)/api/kernels/\w+/channels", Channels),
        ]
    app = tornado.web.Application(routes)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    import tornado.httpserver
    import tornado.netutil

    main()
