#!/usr/bin/env python3
"""A local HTTPS server that answers a few Kubernetes API calls the way kube-apiserver does.

usage: fake_apiserver.py PORT CERT KEY TOKEN_FILE [ARCHIVES_FILE]
The bearer token is re-read from TOKEN_FILE on every request (so tests can rotate it).
Objects: Archive default/minio-store, and the Archives of ARCHIVES_FILE (a JSON list), kept in memory:
GET of an Archive and of its status subresource, PATCH of either with a JSON merge patch (RFC 7386:
objects merge, null deletes; a PATCH of .../status changes only the status, one of the object keeps
the status as it is — a status subresource). Status bodies for 401, 403 (namespace 'locked'), 404, 409;
GET /slow answers after 5 s. Leases (coordination.k8s.io/v1) are kept in memory with real optimistic
concurrency: POST of an existing name is 409 AlreadyExists, PUT with a stale resourceVersion is 409
Conflict, every write bumps the resourceVersion."""
import json
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, TOKEN_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ARCHIVES_FILE = sys.argv[5] if len(sys.argv) > 5 else None

ARCHIVE = {
    "apiVersion": "pgbackrest.cnpg.opera.com/v1", "kind": "Archive",
    "metadata": {"name": "minio-store", "namespace": "default", "resourceVersion": "4711",
                 "uid": "3f0b6c1e-0000-4000-8000-000000000001", "generation": 1,
                 "creationTimestamp": "2026-11-21T06:00:00Z"},
    "spec": {"configuration": {"repositories": [{
        "destinationPath": "/", "bucket": "backups", "endpointURL": "minio:9000",
        "s3Credentials": {"region": "dummy", "accessKeyId": {"name": "minio", "key": "ACCESS_KEY_ID"},
                          "secretAccessKey": {"name": "minio", "key": "ACCESS_SECRET_KEY"}}}]}},
}

ARCHIVES = {("default", "minio-store"): ARCHIVE}  # (namespace, name) -> object
ARCHIVES_LOCK = threading.Lock()
ARCHIVE_VERSION = [4711]
if ARCHIVES_FILE:
    for a in json.load(open(ARCHIVES_FILE)):
        a = json.loads(json.dumps(a))
        a["metadata"].setdefault("namespace", "default")
        a["metadata"].setdefault("resourceVersion", "4711")
        ARCHIVES[(a["metadata"]["namespace"], a["metadata"]["name"])] = a


def merge_patch(target, patch):
    """RFC 7386: a JSON merge patch applied to target."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def archive_route(method, ns, name, subresource, headers, body):
    """GET/PATCH of .../archives/NAME and .../archives/NAME/status."""
    kind = "archives.pgbackrest.cnpg.opera.com"
    with ARCHIVES_LOCK:
        stored = ARCHIVES.get((ns, name))
        if stored is None or subresource not in ("", "status"):
            return status(404, "NotFound", f'{kind} "{name}" not found')
        if method == "GET":
            return 200, stored
        if method != "PATCH":
            return status(405, "MethodNotAllowed", f"{method} is not supported on {kind}")
        if headers.get("Content-Type") != "application/merge-patch+json":
            return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
        try:
            patch = json.loads(body)
        except ValueError as e:
            return status(400, "BadRequest", f"error decoding patch: {e}")
        if not isinstance(patch, dict):
            return status(422, "Invalid", f'{kind} "{name}" is invalid: the patch is not an object')
        if subresource == "status":
            obj = dict(stored, status=merge_patch(stored.get("status", {}), patch.get("status", {})))
        else:
            obj = merge_patch(stored, patch)
            obj.pop("status", None)
            if "status" in stored:
                obj["status"] = stored["status"]
        obj["metadata"] = dict(obj.get("metadata") or stored["metadata"])
        ARCHIVE_VERSION[0] += 1
        obj["metadata"]["resourceVersion"] = str(ARCHIVE_VERSION[0])
        ARCHIVES[(ns, name)] = obj
        return 200, obj


LEASES = {}  # (namespace, name) -> object
LEASES_LOCK = threading.Lock()
RESOURCE_VERSION = [1000]


def next_resource_version():
    RESOURCE_VERSION[0] += 1
    return str(RESOURCE_VERSION[0])


def lease_route(method, ns, name, body):
    """GET/PUT of .../leases/NAME, POST to .../leases (name from the body)."""
    kind = "leases.coordination.k8s.io"
    with LEASES_LOCK:
        if method == "POST":
            name = (body.get("metadata") or {}).get("name", "")
            if not name:
                return status(422, "Invalid", f'{kind} "" is invalid: metadata.name: Required value')
            if (ns, name) in LEASES:
                return status(409, "AlreadyExists", f'{kind} "{name}" already exists')
            obj = json.loads(json.dumps(body))
            obj["metadata"].update({"namespace": ns, "resourceVersion": next_resource_version(),
                                    "uid": str(uuid.uuid4()),
                                    "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            LEASES[(ns, name)] = obj
            return 201, obj
        stored = LEASES.get((ns, name))
        if stored is None:
            return status(404, "NotFound", f'{kind} "{name}" not found')
        if method == "GET":
            return 200, stored
        if method == "PUT":
            sent = (body.get("metadata") or {}).get("resourceVersion")
            if sent is not None and sent != stored["metadata"]["resourceVersion"]:
                return status(409, "Conflict", f'Operation cannot be fulfilled on {kind} "{name}": the object has '
                              'been modified; please apply your changes to the latest version and try again')
            obj = json.loads(json.dumps(body))
            obj["metadata"] = dict(stored["metadata"], resourceVersion=next_resource_version())
            LEASES[(ns, name)] = obj
            return 200, obj
        return status(405, "MethodNotAllowed", f"{method} is not supported on {kind}")


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self, method):
        token = open(TOKEN_FILE).read().strip()
        if self.headers.get("Authorization") != f"Bearer {token}":
            return status(401, "Unauthorized", "Unauthorized")
        path = self.path
        leases = "/apis/coordination.k8s.io/v1/namespaces/"
        if path.startswith(leases):
            ns, _, rest = path[len(leases):].partition("/leases")
            body = {}
            if method in ("POST", "PUT"):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            return lease_route(method, ns, rest.lstrip("/"), body)
        if path == "/slow":
            time.sleep(5)
            return 200, {}
        prefix = "/apis/pgbackrest.cnpg.opera.com/v1/namespaces/"
        if path.startswith(prefix):
            ns, _, name = path[len(prefix):].partition("/archives/")
            if ns == "locked":
                return status(403, "Forbidden", f'archives.pgbackrest.cnpg.opera.com "{name}" is forbidden: '
                              f'User "system:serviceaccount:cnpg-system:pgbackrest" cannot get resource "archives" '
                              f'in API group "pgbackrest.cnpg.opera.com" in the namespace "{ns}"')
            if name == "conflict":
                return status(409, "Conflict", 'Operation cannot be fulfilled on archives.pgbackrest.cnpg.opera.com '
                              '"conflict": the object has been modified; please apply your changes to the latest '
                              'version and try again')
            name, _, subresource = name.partition("/")
            body = b""
            if method == "PATCH":
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            return archive_route(method, ns, name, subresource, self.headers, body)
        return status(404, "NotFound", "the server could not find the requested resource")

    def do_GET(self):
        self.answer(*self.route("GET"))

    def do_PATCH(self):
        self.answer(*self.route("PATCH"))

    def do_POST(self):
        self.answer(*self.route("POST"))

    def do_PUT(self):
        self.answer(*self.route("PUT"))


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
