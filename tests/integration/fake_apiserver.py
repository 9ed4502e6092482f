#!/usr/bin/env python3
"""A local HTTPS server that answers a few Kubernetes API calls the way kube-apiserver does.

usage: fake_apiserver.py PORT CERT KEY TOKEN_FILE [ARCHIVES_FILE]
The bearer token is re-read from TOKEN_FILE on every request (so tests can rotate it).
Objects: Archive default/minio-store, and the Archives of ARCHIVES_FILE (a JSON list), kept in memory: GET of an Archive and of its status subresource, PATCH of either with a JSON
merge patch (RFC 7386: objects merge, null deletes; a PATCH of .../status changes only the status, one
of the object keeps the status as it is — a status subresource). Status bodies for 401, 403 (namespace
'locked'), 404, 409; GET /slow answers after 5 s. Leases (coordination.k8s.io/v1), Roles and
RoleBindings (rbac.authorization.k8s.io/v1) are kept in memory with real optimistic
concurrency: POST of an existing name is 409 AlreadyExists, PUT with a stale resourceVersion is 409
Conflict, every write bumps the resourceVersion, a RoleBinding's roleRef cannot change (422), an
ownerReference needs a uid (422), Roles and RoleBindings in namespace 'rbac-locked' are 403. GET
/writes counts the writes to them by kind (tests check that an idempotent call writes nothing)."""
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


# Objects kept in memory: (plural, namespace, name) -> object. Kinds: plural -> (kind, group/version).
STORED_KINDS = {"leases": ("Lease", "coordination.k8s.io/v1"), "roles": ("Role", "rbac.authorization.k8s.io/v1"),
                "rolebindings": ("RoleBinding", "rbac.authorization.k8s.io/v1")}
OBJECTS = {}
OBJECTS_LOCK = threading.Lock()
RESOURCE_VERSION = [1000]
WRITES = {}  # plural -> number of successful POST/PUT/PATCH


def next_resource_version():
    RESOURCE_VERSION[0] += 1
    return str(RESOURCE_VERSION[0])


def parse_object_path(path):
    """(group/version, namespace, plural, name, subresource) of /apis/G/V/namespaces/NS/PLURAL[/NAME[/status]]."""
    parts = path.split("?")[0].strip("/").split("/")
    if len(parts) < 6 or parts[0] != "apis" or parts[3] != "namespaces" or parts[5] not in STORED_KINDS:
        return None
    if STORED_KINDS[parts[5]][1] != parts[1] + "/" + parts[2]:
        return None
    name = parts[6] if len(parts) > 6 else ""
    sub = parts[7] if len(parts) > 7 else ""
    return parts[4], parts[5], name, sub


def invalid(kind, name, message):
    return status(422, "Invalid", f'{kind} "{name}" is invalid: {message}')


def check_owner_references(kind, name, obj):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if not ref.get("uid"):
            return invalid(kind, name, "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty")
    return None


def object_route(method, ns, plural, name, sub, body, content_type):
    """POST to the collection, GET/PUT/PATCH of an object or of its status, as kube-apiserver does."""
    kind, api_version = STORED_KINDS[plural]
    res = f"{plural}.{api_version.split('/')[0]}"
    with OBJECTS_LOCK:
        if method == "POST" and not name:
            name = (body.get("metadata") or {}).get("name", "")
            if not name:
                return status(422, "Invalid", f'{res} "" is invalid: metadata.name: Required value')
            if (plural, ns, name) in OBJECTS:
                return status(409, "AlreadyExists", f'{res} "{name}" already exists')
            if (bad := check_owner_references(res, name, body)):
                return bad
            obj = json.loads(json.dumps(body))
            obj.update({"kind": kind, "apiVersion": api_version})
            obj["metadata"].update({"namespace": ns, "resourceVersion": next_resource_version(),
                                    "uid": str(uuid.uuid4()),
                                    "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            OBJECTS[(plural, ns, name)] = obj
            WRITES[plural] = WRITES.get(plural, 0) + 1
            return 201, obj
        if ns == "rbac-locked":
            return status(403, "Forbidden", f'{res} is forbidden: User "system:serviceaccount:cnpg-system:pgbackrest" '
                          f'cannot {method.lower()} resource "{plural}" in the namespace "{ns}"')
        stored = OBJECTS.get((plural, ns, name))
        if stored is None:
            return status(404, "NotFound", f'{res} "{name}" not found')
        if sub:
            return status(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            return 200, stored
        if method == "PATCH":
            if content_type != "application/merge-patch+json":
                return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
            body = merge_patch(stored, body)
        elif method != "PUT":
            return status(405, "MethodNotAllowed", f"{method} is not supported on {res}")
        sent = (body.get("metadata") or {}).get("resourceVersion")
        if sent is not None and sent != stored["metadata"]["resourceVersion"]:
            return status(409, "Conflict", f'Operation cannot be fulfilled on {res} "{name}": the object has '
                          'been modified; please apply your changes to the latest version and try again')
        if plural == "rolebindings" and body.get("roleRef") != stored.get("roleRef"):
            return invalid(res, name, "roleRef: Invalid value: cannot change roleRef")
        if (bad := check_owner_references(res, name, body)):
            return bad
        obj = json.loads(json.dumps(body))
        obj["metadata"] = dict(stored["metadata"], **{k: v for k, v in (obj.get("metadata") or {}).items()
                                                      if k in ("labels", "annotations", "ownerReferences")})
        obj["metadata"]["resourceVersion"] = next_resource_version()
        obj.update({"kind": kind, "apiVersion": api_version})
        OBJECTS[(plural, ns, name)] = obj
        WRITES[plural] = WRITES.get(plural, 0) + 1
        return 200, obj


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
        if path == "/writes":
            with OBJECTS_LOCK:
                return 200, dict(WRITES)
        target = parse_object_path(path)  # leases, roles, rolebindings
        if target:
            ns, plural, name, sub = target
            body = {}
            if method in ("POST", "PUT", "PATCH"):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            return object_route(method, ns, plural, name, sub, body, self.headers.get("Content-Type"))
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
