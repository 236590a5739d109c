"""The test world's AWS emulator: moto's server plus the calls moto lacks.

Adds CloudTrail ListPublicKeys, serving the keys in KEYS_DIR/{region}.json (list-public-keys
shape, as written by `trailproof-sim public-keys`) that overlap the requested StartTime/EndTime.
Binds 127.0.0.1 on a free port, prints "READY <port>" and serves until its stdin closes, so it
dies with the test process that started it.

Also lets tests set what GetTrailStatus answers, which moto cannot know (digest delivery times,
when logging stopped): fields in STATE_DIR/trail-status/{trail name}.json (epoch seconds or
booleans, as on the wire) override moto's answer.

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
