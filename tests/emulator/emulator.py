"""The test world's AWS emulator: moto's server plus the calls moto lacks.

Adds CloudTrail ListPublicKeys, serving the keys in KEYS_DIR/{region}.json (list-public-keys
shape, as written by `trailproof-sim public-keys`) that overlap the requested StartTime/EndTime.
Binds 127.0.0.1 on a free port, prints "READY <port>" and serves until its stdin closes, so it
dies with the test process that started it.

Also lets tests set what GetTrailStatus answers, which moto cannot know (digest delivery times,
when logging stopped): fields in STATE_DIR/trail-status/{trail name}.json (epoch seconds or
booleans, as on the wire) override moto's answer.

SNS: subscriptions with the email, email-json, http or https protocols stay "PendingConfirmation"
(as on AWS, until the endpoint confirms); moto confirms every subscription at once.

S3 GetBucketVersioning answers with S3's root element (moto's is named differently).

Denials: an empty file STATE_DIR/deny/{Action} (e.g. DescribeMetricFilters) makes that action
answer AccessDenied, as for a caller whose policy lacks it. Remove the file to allow it again.

IAM actions: every request is appended to STATE_DIR/iam-actions.log as "ACCESS-KEY-ID ACTION
RESOURCE", ACTION being the IAM action it needs (s3:ListBucket for ListObjectsV2). A test that
runs a command under its own access key ID finds exactly that command's calls there, and checks
them against the command's policy in deploy/iam/.

Usage: python emulator.py KEYS_DIR [STATE_DIR]
"""
import base64
import datetime as dt
import json
import logging
import os
import socket
import sys
import threading

# The simulated trails belong to this account; moto reads it at import time.
os.environ.setdefault("MOTO_ACCOUNT_ID", "111122223333")

from moto.cloudtrail.responses import CloudTrailResponse  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.cloudwatch.responses import CloudWatchResponse  # noqa: E402
from moto.logs.responses import LogsResponse  # noqa: E402
from moto.s3.responses import S3Response  # noqa: E402
from moto.sns.models import SNSBackend  # noqa: E402
from moto.sns.responses import SNSResponse  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

KEYS_DIR = sys.argv[1] if len(sys.argv) > 1 else "keys/public-keys"
STATE_DIR = sys.argv[2] if len(sys.argv) > 2 else None


def _epoch(value):
    """ISO 8601 string or epoch number -> epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def list_public_keys(self):
    # SDKs send timestamps as epoch seconds in CloudTrail's JSON protocol.
    start = self._get_param("StartTime")
    end = self._get_param("EndTime")
    start = _epoch(start) if start is not None else float("-inf")
    end = _epoch(end) if end is not None else float("inf")
    path = os.path.join(KEYS_DIR, f"{self.region}.json")
    keys = []
    if os.path.exists(path):
        with open(path) as f:
            for key in json.load(f)["PublicKeyList"]:
                key_start = _epoch(key["ValidityStartTime"])
                key_end = _epoch(key["ValidityEndTime"])
                if key_start <= end and key_end >= start:
                    # Value stays base64 of the PKCS#1 DER, as on the real wire (a JSON blob).
                    base64.b64decode(key["Value"], validate=True)
                    keys.append(
                        {
                            "Value": key["Value"],
                            "ValidityStartTime": key_start,
                            "ValidityEndTime": key_end,
                            "Fingerprint": key["Fingerprint"],
                        }
                    )
    return json.dumps({"PublicKeyList": keys})


CloudTrailResponse.list_public_keys = list_public_keys

_moto_get_trail_status = CloudTrailResponse.get_trail_status


def get_trail_status(self):
    answer = json.loads(_moto_get_trail_status(self))
    name = self._get_param("Name").split("trail/")[-1]
    if STATE_DIR:
        path = os.path.join(STATE_DIR, "trail-status", f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                answer.update(json.load(f))
    return json.dumps(answer)


CloudTrailResponse.get_trail_status = get_trail_status

def get_bucket_versioning(self):
    # moto names the root GetBucketVersioningResponse; S3 (and the Rust SDK) use
    # VersioningConfiguration.
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
    return 200, {"Content-Type": "application/xml"}, body


S3Response.get_bucket_versioning = get_bucket_versioning

# SNS confirmation: moto treats every subscription as confirmed.
CONFIRMATION_NEEDED = {"email", "email-json", "http", "https"}
_moto_subscribe = SNSBackend.subscribe


def subscribe(self, topic_arn, endpoint, protocol):
    subscription = _moto_subscribe(self, topic_arn, endpoint, protocol)
    if protocol in CONFIRMATION_NEEDED:
        subscription.attributes["PendingConfirmation"] = "true"
    return subscription


class _Listed:
    """A subscription as ListSubscriptionsByTopic shows it; unconfirmed ones have no ARN yet."""

    def __init__(self, sub):
        pending = sub.attributes.get("PendingConfirmation") == "true"
        self.subscription_arn = "PendingConfirmation" if pending else sub.arn
        self.owner = sub.account_id
        self.protocol = sub.protocol
        self.endpoint = sub.endpoint
        self.topic_arn = sub.topic.arn


_moto_list_by_topic = SNSBackend.list_subscriptions_by_topic


def list_subscriptions_by_topic(self, topic_arn, next_token=None):
    subs, token = _moto_list_by_topic(self, topic_arn, next_token=next_token)
    return [_Listed(s) for s in subs], token


SNSBackend.subscribe = subscribe
SNSBackend.list_subscriptions_by_topic = list_subscriptions_by_topic


def _denied(self, action):
    """AccessDenied in the service's own protocol: JSON for X-Amz-Target APIs, else query XML."""
    message = f"User: arn:aws:iam::111122223333:user/test is not authorized to perform: {action}"
    if self.headers.get("X-Amz-Target"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message})
        return 400, {"Content-Type": "application/x-amz-json-1.1"}, body
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error>"
        "<RequestId>denied</RequestId></ErrorResponse>"
    )
    return 403, {"Content-Type": "text/xml"}, body


def _with_denials(cls):
    moto_call_action = cls.call_action

    def call_action(self):
        action = self._get_action()
        if STATE_DIR and action and os.path.exists(os.path.join(STATE_DIR, "deny", action)):
            return _denied(self, action)
        return moto_call_action(self)

    cls.call_action = call_action


for _cls in (CloudTrailResponse, CloudWatchResponse, LogsResponse, SNSResponse):
    _with_denials(_cls)


# Signing names that differ from the IAM service prefix.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# S3 calls by subresource: the IAM action differs from the API's name for some.
S3_BUCKET_GET = {
    "location": "GetBucketLocation",
    "versioning": "GetBucketVersioning",
    "publicAccessBlock": "GetBucketPublicAccessBlock",
    "object-lock": "GetBucketObjectLockConfiguration",
}
S3_OBJECT = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject"}
_log_lock = threading.Lock()


def _iam_action(self, service, resource):
    if service != "s3":
        return f"{IAM_PREFIX.get(service, service)}:{self._get_action()}"
    on_object = "/" in resource.split(":::", 1)[-1]
    if on_object:
        action = S3_OBJECT.get(self.method)
    elif self.method == "GET":
        action = next((a for q, a in S3_BUCKET_GET.items() if q in self.querystring), "ListBucket")
    else:
        action = None
    # An unmapped call is logged as such, so that no policy can be found to cover it.
    return f"s3:{action or 'Unmapped' + self.method}"


_moto_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authorize_and_log(self, iam_request_cls, resource="*"):
    scope = self.headers.get("Authorization", "").split("Credential=", 1)[-1].split(",")[0].split("/")
    if STATE_DIR and len(scope) >= 4:
        try:
            action = _iam_action(self, scope[3], resource)
        except Exception as e:  # the log must never fail a request; no policy covers this name
            action = f"{scope[3]}:Unknown({type(e).__name__})"
        line = f"{scope[0]} {action} {resource}\n"
        with _log_lock, open(os.path.join(STATE_DIR, "iam-actions.log"), "a") as f:
            f.write(line)
    return _moto_authorize(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize_and_log


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"READY {port}", flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
