"""moto server with IAM evaluated on resource ARNs, and a record of the function's calls.

    python -m devstack.moto_iam [--record FILE] -H 127.0.0.1 -p PORT

moto's authorisation (moto.core.authorization) checks every request once
authentication is on, but names the resource only for S3, SQS, IAM and
STS: for the other services it evaluates the policies against `*`, which
no least-privilege statement matches. This launcher gives moto's response
classes for the services MyBlog calls the resource ARN AWS authorises
(SSM parameters by the path sent, the SES identity of the sender's domain,
the CloudFront distribution, the SNS topic, the queue a GetQueueUrl names:
moto finds SQS queues by URL only), then runs moto server as
`python -m moto.server` would. SQS's batch operations are authorised as AWS
authorises them, as the action of one message (SendMessageBatch as
sqs:SendMessage, DeleteMessageBatch as sqs:DeleteMessage): moto checks
them under their own names, which no policy names.

Every decision for a session key (the function role's) is appended to the
JSON-lines file given as `--record` (or MYBLOG_IAM_RECORD). S3 requests signed in the URL
or a form (presigned GET and POST, from browsers) carry no Authorization
header, which moto cannot evaluate: they pass, and are recorded as
`presigned`.
"""

import json
import os
import re
import sys
import threading
import time

from moto.core import authorization
from moto.core.exceptions import HTTPException

_lock = threading.Lock()
# The IAM action AWS checks for an SQS batch operation.
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
ACCESS_KEY_RE = re.compile(r"Credential=([^/,\s]+)/")


def _address_domain(address):
    address = address or ""
    if "<" in address:
        address = address.split("<", 1)[1].rstrip(">")
    return address.rsplit("@", 1)[-1].strip()


def _ssm_resource(self):
    name = self._get_param("Path") or self._get_param("Name")
    if not name:
        return "*"
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter{name if name.startswith('/') else '/' + name}"


def _ses_resource(self):
    source = self._get_param("Source") or self.querystring.get("Source", [""])[0]
    domain = _address_domain(source)
    return f"arn:aws:ses:{self.region}:{self.current_account}:identity/{domain}" if domain else "*"


def _sesv2_resource(self):
    try:
        body = json.loads(self.body or "{}")
    except ValueError:
        body = {}
    domain = _address_domain(body.get("FromEmailAddress"))
    return f"arn:aws:ses:{self.region}:{self.current_account}:identity/{domain}" if domain else "*"


def _cloudfront_resource(self):
    match = re.search(r"/distribution/([^/]+)", self.path or "")
    return f"arn:aws:cloudfront::{self.current_account}:distribution/{match.group(1)}" if match else "*"


def _sns_resource(self):
    return self._get_param("TopicArn") or "*"


def _sqs_resource(self, by_url):
    name = self._get_param("QueueName")
    if name and not self._get_param("QueueUrl"):
        # GetQueueUrl (and CreateQueue) name the queue, not its URL.
        return f"arn:aws:sqs:{self.region}:{self.current_account}:{name}"
    return by_url(self)


def _record(entry):
    path = os.environ.get("MYBLOG_IAM_RECORD")
    if not path:
        return
    with _lock, open(path, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


_authenticate = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_and_record(self, iam_request_cls, resource="*"):
    from moto import settings

    if authorization.ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return _authenticate(self, iam_request_cls, resource)
    headers = self.headers
    if "Authorization" not in headers:
        _record({"time": time.time(), "action": self._get_action(), "resource": resource, "presigned": True})
        return None
    match = ACCESS_KEY_RE.search(headers.get("Authorization", ""))
    session = "X-Amz-Security-Token" in headers
    service = match and headers["Authorization"].split("Credential=", 1)[1].split("/")[3]
    action = self._get_action()
    authorised = SQS_BATCH_ACTIONS.get(action, action) if service == "sqs" else action
    entry = {"time": time.time(), "action": f"{service}:{authorised}", "resource": resource}
    if authorised != action:
        self._get_action = lambda: authorised  # this request's response object only
    try:
        result = _authenticate(self, iam_request_cls, resource)
    except HTTPException:
        if session:
            _record({**entry, "allowed": False})
        raise
    except Exception:
        if session:
            _record({**entry, "allowed": False})
        raise
    finally:
        self.__dict__.pop("_get_action", None)
    if session:
        _record({**entry, "allowed": True})
    return result


def install():
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response
    from moto.sns.responses import SNSResponse
    from moto.sqs.responses import SQSResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    SimpleSystemManagerResponse._determine_resource = _ssm_resource
    EmailResponse._determine_resource = _ses_resource
    SESV2Response._determine_resource = _sesv2_resource
    CloudFrontResponse._determine_resource = _cloudfront_resource
    SNSResponse._determine_resource = _sns_resource
    by_url = SQSResponse._determine_resource
    SQSResponse._determine_resource = lambda self: _sqs_resource(self, by_url)
    authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_record


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--record" in argv:
        index = argv.index("--record")
        os.environ["MYBLOG_IAM_RECORD"] = argv[index + 1]
        del argv[index : index + 2]
    install()
    from moto.server import main as moto_main

    return moto_main(argv)


def service(port, record=None, log_path=None):
    """moto server with IAM as a stack service (see devstack.services.Service)."""
    from devstack.services import Service

    args = [sys.executable, "-m", "devstack.moto_iam", "-H", "127.0.0.1", "-p", str(port)]
    if record:
        args[3:3] = ["--record", str(record)]
    return Service("moto server", args, port, log_path=log_path)


if __name__ == "__main__":
    sys.exit(main())
