"""IAM in front of DynamoDB Local: every call of the function checked against its role, and recorded.

DynamoDB Local accepts any key. The local Lambda runtime talks to it
through this proxy, which reads each request as DynamoDB does (the
`X-Amz-Target` operation and the JSON body's table, index and items),
names the IAM actions and resource ARNs AWS would authorise
(`arn:aws:dynamodb:<region>:<account>:table/<name>[/index/<index>|/stream/<label>]`,
one per table a batch or transaction touches, with the per-item actions
AWS checks for transactions), evaluates them with the role's policies
(devstack/iam.py, moto's policy engine) and either forwards the request
unchanged or answers DynamoDB's AccessDeniedException. Every call is
appended to a JSON-lines record, so a test run can fail on any denied
call and list the grants nothing used.

Requests signed with other keys (the stack's own set-up, the tests) pass
through unchecked and unrecorded, as an administrator's would.
"""

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

ACCESS_KEY_RE = re.compile(r"Credential=([^/,\s]+)/")
STREAM_ARN_RE = re.compile(r"^arn:aws:dynamodb:[^:]*:[^:]*:table/([^/]+)/stream/(.+)$")
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
ACCOUNT_WIDE = {"ListTables", "ListStreams", "DescribeLimits", "DescribeEndpoints", "ListGlobalTables", "ListBackups"}


def table_arn(region, account, table, index=None):
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def stream_arn(region, account, arn):
    """DynamoDB Local's stream ARN (region `ddblocal`, account 0) as AWS would name it."""
    match = STREAM_ARN_RE.match(arn or "")
    if not match:
        return arn
    return f"arn:aws:dynamodb:{region}:{account}:table/{match.group(1)}/stream/{match.group(2)}"


def authorisations(target, body, region, account, iterators=None):
    """[(action, resource)] AWS authorises for one DynamoDB or DynamoDB Streams request."""
    service, _, operation = target.partition(".")
    prefix = "dynamodb"
    if service.startswith("DynamoDBStreams"):
        if operation == "ListStreams":
            table = body.get("TableName")
            return [(f"{prefix}:ListStreams", table_arn(region, account, table) + "/stream/*" if table else "*")]
        if operation == "GetRecords":
            arn = (iterators or {}).get(body.get("ShardIterator"), "*")
            return [(f"{prefix}:GetRecords", arn)]
        return [(f"{prefix}:{operation}", stream_arn(region, account, body.get("StreamArn")))]
    if operation in ACCOUNT_WIDE:
        return [(f"{prefix}:{operation}", "*")]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"{prefix}:{operation}", table_arn(region, account, name)) for name in body.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in body.get("TransactItems", []):
            for kind, request in item.items():
                action = "GetItem" if kind == "Get" else TRANSACT_ACTIONS.get(kind, kind)
                found.append((f"{prefix}:{action}", table_arn(region, account, request.get("TableName"))))
        return list(dict.fromkeys(found))
    if operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        return [(f"{prefix}:PartiQL{operation}", "*")]
    table = body.get("TableName") or body.get("TableArn", "").rsplit("/", 1)[-1]
    return [(f"{prefix}:{operation}", table_arn(region, account, table, body.get("IndexName")))]


class Recorder:
    """The calls of one principal, in memory and appended to a JSON-lines file."""

    def __init__(self, path=None):
        self.path = path
        self.calls = []
        self._lock = threading.Lock()

    def record(self, entry):
        with self._lock:
            self.calls.append(entry)
            if self.path:
                with open(self.path, "a") as handle:
                    handle.write(json.dumps(entry) + "\n")

    def denied(self):
        return [call for call in self.calls if not call["allowed"]]


class DynamoDBProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        upstream,
        port,
        evaluator,
        access_key_id,
        principal_arn,
        recorder,
        region="us-east-1",
        account="123456789012",
        host="127.0.0.1",
    ):
        self.upstream = upstream.rstrip("/")
        self.evaluator = evaluator
        self.access_key_id = access_key_id
        self.principal_arn = principal_arn
        self.recorder = recorder
        self.region = region
        self.account = account
        self.iterators = {}  # shard iterator -> stream ARN (GetRecords names only the iterator)
        super().__init__((host, port), _Handler)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve_in_thread(self):
        threading.Thread(target=self.serve_forever, name="dynamodb-proxy", daemon=True).start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def remember_iterators(self, target, body, answer, arns):
        operation = target.rpartition(".")[2]
        if operation == "GetShardIterator" and "ShardIterator" in answer:
            self.iterators[answer["ShardIterator"]] = stream_arn(self.region, self.account, body.get("StreamArn"))
        elif operation == "GetRecords" and answer.get("NextShardIterator"):
            self.iterators[answer["NextShardIterator"]] = arns[0][1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - BaseHTTPRequestHandler's naming
        server = self.server
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        match = ACCESS_KEY_RE.search(self.headers.get("Authorization", ""))
        checked = bool(match) and match.group(1) == server.access_key_id
        body = json.loads(data or b"{}") if checked else {}
        arns = authorisations(target, body, server.region, server.account, server.iterators) if checked else []
        if checked:
            denied = [(action, resource) for action, resource in arns if not server.evaluator.allows(action, resource)]
            for action, resource in arns:
                server.recorder.record(
                    {
                        "time": time.time(),
                        "operation": target.rpartition(".")[2],
                        "action": action,
                        "resource": resource,
                        "allowed": (action, resource) not in denied,
                    }
                )
            if denied:
                action, resource = denied[0]
                message = (
                    f"User: {server.principal_arn} is not authorized to perform: {action} on resource: {resource} "
                    f"because no identity-based policy allows the {action} action"
                )
                log.warning("dynamodb proxy: denied %s on %s", action, resource)
                return self._answer(
                    400,
                    json.dumps(
                        {
                            "__type": "com.amazon.coral.service#AccessDeniedException",
                            "Message": message,
                        }
                    ).encode(),
                    {"Content-Type": "application/x-amz-json-1.0"},
                )
        forwarded = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")
        }
        request = urllib.request.Request(server.upstream + self.path, data=data, headers=forwarded, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - DynamoDB Local on loopback
                status, answer, headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, answer, headers = error.code, error.read(), dict(error.headers)
        if checked and status == 200 and target.startswith("DynamoDBStreams"):
            server.remember_iterators(target, body, json.loads(answer or b"{}"), arns)
        self._answer(status, answer, headers)

    def do_GET(self):  # noqa: N802 - health checks reach DynamoDB Local as they are
        request = urllib.request.Request(self.server.upstream + self.path, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                self._answer(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read(), dict(error.headers))

    def _answer(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        log.debug("dynamodb proxy: " + format, *args)
