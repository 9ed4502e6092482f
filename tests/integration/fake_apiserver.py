#!/usr/bin/env python3
"""A local HTTPS server that answers a few Kubernetes API calls the way kube-apiserver does.

usage: fake_apiserver.py PORT CERT KEY TOKEN_FILE
The bearer token is re-read from TOKEN_FILE on every request (so tests can rotate it).
Objects: Archive default/minio-store; Status bodies for 401, 403 (namespace 'locked'), 404, 409;
GET /slow answers after 5 s. Leases (coordination.k8s.io/v1), Roles and RoleBindings
(rbac.authorization.k8s.io/v1) and Archives created with POST are kept in memory with real optimistic
concurrency: POST of an existing name is 409 AlreadyExists, PUT with a stale resourceVersion is 409
Conflict, every write bumps the resourceVersion, a RoleBinding's roleRef cannot change (422), an
ownerReference needs a uid (422), Roles and RoleBindings in namespace 'locked' are 403. A stored Archive has the status subresource: PUT/PATCH of the object
keep its status, PUT/PATCH of .../status change only the status. GET /writes counts the writes to
the stored objects by kind (tests check that an idempotent call writes nothing)."""
import json
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, TOKEN_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

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


# Objects kept in memory: (plural, namespace, name) -> object. Kinds: plural -> (kind, group/version).
STORED_KINDS = {"leases": ("Lease", "coordination.k8s.io/v1"), "roles": ("Role", "rbac.authorization.k8s.io/v1"),
                "rolebindings": ("RoleBinding", "rbac.authorization.k8s.io/v1"),
                "archives": ("Archive", "pgbackrest.cnpg.opera.com/v1")}
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
            if plural == "archives":
                obj.pop("status", None)  # the status subresource: a create sets no status
            obj["metadata"].update({"namespace": ns, "resourceVersion": next_resource_version(),
                                    "uid": str(uuid.uuid4()),
                                    "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            OBJECTS[(plural, ns, name)] = obj
            WRITES[plural] = WRITES.get(plural, 0) + 1
            return 201, obj
        if ns == "locked" and plural in ("roles", "rolebindings"):
            return status(403, "Forbidden", f'{res} is forbidden: User "system:serviceaccount:cnpg-system:pgbackrest" '
                          f'cannot {method.lower()} resource "{plural}" in the namespace "{ns}"')
        stored = OBJECTS.get((plural, ns, name))
        if stored is None:
            return status(404, "NotFound", f'{res} "{name}" not found')
        if sub and (sub != "status" or plural != "archives"):
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
        if plural == "archives":
            # The status subresource: the object's writes keep the status, the status' writes only it.
            keep = obj if sub else stored
            obj = json.loads(json.dumps(stored if sub else obj))
            if "status" in keep:
                obj["status"] = json.loads(json.dumps(keep["status"]))
            else:
                obj.pop("status", None)
        obj["metadata"] = dict(stored["metadata"], **{k: v for k, v in (obj.get("metadata") or {}).items()
                                                      if k in ("labels", "annotations", "ownerReferences")})
        obj["metadata"]["resourceVersion"] = next_resource_version()
        obj.update({"kind": kind, "apiVersion": api_version})
        OBJECTS[(plural, ns, name)] = obj
        WRITES[plural] = WRITES.get(plural, 0) + 1
        return 200, obj


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


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
        # Stored objects (leases, roles, rolebindings, Archives created with POST) before the fixed ones.
        target = parse_object_path(path)
        if target and (method == "POST" or (target[1], target[0], target[2]) in OBJECTS or target[1] != "archives"):
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
            if ns == "default" and name == "minio-store" and method == "GET":
                return 200, ARCHIVE
            if ns == "default" and name == "minio-store" and method == "PATCH":
                if self.headers.get("Content-Type") != "application/merge-patch+json":
                    return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
                length = int(self.headers.get("Content-Length", "0"))
                patch = json.loads(self.rfile.read(length))
                obj = json.loads(json.dumps(ARCHIVE))
                obj["status"] = patch.get("status", {})
                obj["metadata"]["resourceVersion"] = "4712"
                return 200, obj
            if name == "conflict":
                return status(409, "Conflict", 'Operation cannot be fulfilled on archives.pgbackrest.cnpg.opera.com '
                              '"conflict": the object has been modified; please apply your changes to the latest '
                              'version and try again')
            return status(404, "NotFound", f'archives.pgbackrest.cnpg.opera.com "{name}" not found')
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
