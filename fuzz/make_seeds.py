#!/usr/bin/env python3
"""Regenerates the committed seed corpora in fuzz/seeds/<target>/ from the bundled sample trail
(testdata/sample, written by trailproof-sim with TEST keys) and keys/. Needs python3 and openssl.
Run from anywhere: python3 fuzz/make_seeds.py [TARGET...]"""
import base64, glob, gzip, hashlib, io, json, os, shutil, struct, subprocess, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
SAMPLE = os.path.join(ROOT, "testdata", "sample")


def out(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(b, level=6, name=None, extra=None, comment=None):
    """A gzip member, optionally with FNAME/FEXTRA/FCOMMENT header fields."""
    if name is None and extra is None and comment is None:
        return gzip.compress(b, compresslevel=level, mtime=0)
    flg, hdr = 0, b""
    if extra is not None:
        flg |= 4
        hdr += struct.pack("<H", len(extra)) + extra
    if name is not None:
        flg |= 8
        hdr += name + b"\0"
    if comment is not None:
        flg |= 16
        hdr += comment + b"\0"
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(b) + c.flush()
    return bytes([0x1F, 0x8B, 8, flg, 0, 0, 0, 0, 0, 255]) + hdr + body + struct.pack("<II", zlib.crc32(b), len(b) & 0xFFFFFFFF)


def sample(kind):
    files = sorted(glob.glob(os.path.join(SAMPLE, "**", "*.json.gz"), recursive=True))
    return [f for f in files if ("CloudTrail-Digest" in f) == (kind == "digest")]


def digest_seeds():
    files = sample("digest")
    chosen = files[:1] + files[1::6]  # the chain start and a spread of the rest
    for i, f in enumerate(chosen):
        out("digest", f"sample-{i:02}.json.gz", open(f, "rb").read())
    raw = open(files[3], "rb").read()
    text = gzip.decompress(raw).decode()
    d = json.loads(text)
    muts = {
        "missing-prevsig": {k: v for k, v in d.items() if k != "previousDigestSignature"},
        "missing-logfiles": {k: v for k, v in d.items() if k != "logFiles"},
        "md5-algorithm": {**d, "digestSignatureAlgorithm": "MD5withRSA"},
        "bad-time": {**d, "digestEndTime": "2026-02-30T25:00:00Z"},
        "offset-time": {**d, "digestEndTime": "2026-03-01T06:17:42.123+01:00"},
        "chain-start": {**d, "previousDigestS3Bucket": None, "previousDigestS3Object": None,
                        "previousDigestHashValue": None, "previousDigestSignature": None},
        "empty-logfiles": {**d, "logFiles": [], "newestEventTime": None, "oldestEventTime": None},
        "extra-fields": {**d, "unknown": {"nested": [1, 2.5, None, True]}, "awsAccountId": "\u00e9\u4e2d\ud83d\ude00"},
        "number-instead-of-string": {**d, "digestS3Bucket": 12},
        "logfile-missing-hash": {**d, "logFiles": [{k: v for k, v in e.items() if k != "hashValue"} for e in d["logFiles"]]},
    }
    for name, v in muts.items():
        out("digest", f"{name}.json.gz", gz(json.dumps(v, separators=(",", ":")).encode()))
    out("digest", "pretty.json.gz", gz(json.dumps(d, indent=2).encode()))
    out("digest", "duplicate-key.json.gz", gz(text.replace("{", '{"digestEndTime":"x",', 1).encode()))
    out("digest", "top-level-array.json.gz", gz(b"[" + text.encode() + b"]"))
    out("digest", "not-utf8.json.gz", gz(text.encode().replace(b"111122223333", b"\xff\xfe", 1)))
    out("digest", "stored-block.json.gz", gz(text.encode(), level=0))
    out("digest", "header-fields.json.gz", gz(text.encode(), name=b"d.json", extra=b"AB\x02\x00hi", comment=b"c"))
    out("digest", "truncated.gz", raw[:-7])
    out("digest", "trailing-byte.gz", raw + b"\0")
    out("digest", "two-members.gz", raw + gz(b"{}"))
    out("digest", "bomb.gz", gz(b" " * (80 << 10), level=9))  # just over the harnesses' 64 KiB
    out("digest", "empty.gz", gz(b""))
    out("digest", "plain.json", text.encode())


def der(pem, form):
    args = ["openssl", "rsa", "-in", pem, "-outform", "DER"] + (["-RSAPublicKey_out"] if form == "pkcs1" else ["-pubout"])
    return subprocess.run(args, check=True, capture_output=True).stdout


def public_key_seeds():
    spki_values = []
    for pem in sorted(glob.glob(os.path.join(ROOT, "keys", "*.pem"))):
        stem = os.path.basename(pem)[:-4]
        for form in ("pkcs1", "spki"):
            b = der(pem, form)
            out("public_key", f"{stem}.{form}.der", b)
            if form == "spki":
                spki_values.append(b)
    for f in sorted(glob.glob(os.path.join(ROOT, "keys", "public-keys", "*.json"))):
        out("public_key", os.path.basename(f), open(f, "rb").read())
    us = json.load(open(os.path.join(ROOT, "testdata", "public-keys.json")))
    out("public_key", "testdata-public-keys.json", json.dumps(us, separators=(",", ":")).encode())
    e = us["PublicKeyList"][0]
    b64 = lambda b: base64.b64encode(b).decode()
    md5 = lambda b: hashlib.md5(b).hexdigest()
    s = spki_values[0]
    variants = {
        "spki-value": [{**e, "Value": b64(s), "Fingerprint": md5(s)}],
        "epoch-times": [{**e, "ValidityStartTime": 1770681600, "ValidityEndTime": 1773273600.5}],
        "mixed-bad": [e, {**e, "Value": "!!!", "Fingerprint": "aa"},
                      {**e, "Fingerprint": "00" * 16}, {**e, "ValidityStartTime": None},
                      {**e, "ValidityEndTime": "2026-03-12"}, {**e, "Value": " " + e["Value"] + "\n"}],
        "empty": [],
    }
    for name, lst in variants.items():
        out("public_key", f"{name}.json", json.dumps({"PublicKeyList": lst}).encode())


def log_file_seeds():
    # Each seed: a 2-byte little-endian split point, then the stored gzip bytes.
    files = sample("log")
    for i, f in enumerate(files[::8]):
        b = open(f, "rb").read()
        out("log_file", f"sample-{i:02}", struct.pack("<H", (i * 97) % (len(b) + 1)) + b)
    raw = open(files[0], "rb").read()
    body = gzip.decompress(raw)
    seeds = {
        "truncated": raw[:-3],
        "trailing-byte": raw + b"\0",
        "two-members": raw + gz(b"{}"),
        "empty-member": gz(b""),
        "empty-input": b"",
        "header-fields": gz(body, name=b"log.json", extra=b"xy\x00\x00", comment=b"hi"),
        "stored-block": gz(body, level=0),
        "bomb": gz(b"\0" * (80 << 10), level=9),
        "bad-crc": raw[:-8] + bytes(4) + raw[-4:],
        "bad-isize": raw[:-4] + b"\xff\xff\xff\xff",
    }
    for name, b in seeds.items():
        out("log_file", name, struct.pack("<H", len(b) // 2) + b)


def evidence_strings_seeds():
    # Parts separated by 0xFF (see `evidence_strings` in harness.rs): 0 backfill-generation-timestamp,
    # 1 signature, 2 signature-algorithm, 3 a successor's signature; every part is also tried as a
    # time, an object name, a region, a bucket, a trail ARN and a key file.
    first = sample("digest")[0]  # seeds/digest/sample-00.json.gz, the harness's sample digest
    key = os.path.relpath(first, os.path.join(SAMPLE, "trailproof-sample"))
    sig = json.load(open(first + ".metadata.json"))["signature"]
    folder, name = key.rsplit("/", 1)
    stem = name[: -len("20260301T011809Z.json.gz")]
    log = os.path.relpath(sample("log")[0], os.path.join(SAMPLE, "trailproof-sample"))
    j = lambda *parts: b"\xff".join(p.encode() if isinstance(p, str) else p for p in parts)
    keys = json.load(open(os.path.join(ROOT, "testdata", "public-keys.json")))
    e = keys["PublicKeyList"][0]
    seeds = {
        # Times: CLI flags, backfill-generation-timestamp, digest times, key stamps.
        "time-max-chrono": "+262142-12-31T23:59:59Z",
        "time-year-1": "0001-01-01T00:00:00Z",
        "time-compact": "20260301T000000Z",
        "time-compact-minutes": "20260301T0517Z",
        "time-offset-frac": "2026-03-01T06:17:42.123+01:00",
        "time-leap-offset": "9999-12-31T23:59:60-23:59",
        "time-before-epoch": "1970-01-01T00:00:00+00:01",
        "time-forms": j("2026-03-01 05:17:42", "2026-03-01", " 2026-03-01T05:17 ", "2026-02-30T25:00:00Z"),
        # Digest object names: the sample's, as a backfill, another trail's, the folder-relative
        # part, a bad folder date, and the organization target's.
        "digest-key": key,
        "digest-key-backfill": key.replace(".json.gz", "_backfill.json.gz"),
        "digest-key-other-trail": key.replace("_management-events_", "_other_"),
        "digest-name-relative": j(f"2026/03/01/{name}", f"2026/02/30/{name}", f"2026/03/01/x/{name}"),
        "digest-key-org": "trails/" + key.replace("AWSLogs/", "AWSLogs/o-exampleorgid/").replace("us-east-1", "eu-west-1").replace("_eu-west-1_2026", "_us-east-1_2026"),
        "digest-stem-unicode": f"{folder}/{stem}".replace("management-events", "m\u00e9\u4e2d\U0001f600") + "20260301T011809Z.json.gz",
        # Log object names: real, stamp only (the harness adds the folder and name stem), another
        # day, outside the range, and a region from the listing.
        "log-key": log,
        "log-stamps": j("20260301T0517Z_abc.json.gz", "20260302T0517Z_abc.json.gz", "20260301T0200Z_abc.json.gz", "20260301T1801Z_x.json.gz", "20260301T0459Z_x.json.gz"),
        "log-region": j("eu-west-1", log.replace("us-east-1", "eu-west-1")),
        # Signature metadata on the sample digest.
        "auth-backfill": j("2026-03-05T00:00:00Z", sig, "SHA256withRSA"),
        "auth-backfill-before-end": j("2026-03-01T01:18:08Z", sig, "SHA256withRSA"),
        "auth-backfill-at-latest": j("2026-03-10T00:05:00Z", sig),
        "auth-backfill-after-now": j("2026-03-10T00:05:01Z", sig),
        "auth-upper-padded": j("", " " + sig.upper() + "\n", "SHA256withRSA"),
        "auth-md5": j("", sig, "MD5withRSA"),
        "auth-successor": j("2026-03-05T00:00:00Z", "", "", sig),
        "auth-successor-bad": j("2026-03-05T00:00:00Z", "", "", sig[:-2] + "00"),
        "auth-not-hex": j("+262142-12-31T23:59:59Z", "zz" * 256, "SHA256withRSA" * 200),
        # Key files, both shapes, and broken ones.
        "keys-list": json.dumps(keys, separators=(",", ":")),
        "keys-by-region": json.dumps({"us-east-1": keys, "eu-west-1": {"PublicKeyList": []}}),
        "keys-odd-times": json.dumps({"PublicKeyList": [{**e, "ValidityStartTime": "+262142-12-31T23:59:59Z"},
                                                         {**e, "ValidityEndTime": 1e300}, {**e, "ValidityStartTime": -1e300}]}),
        "keys-broken": j('{"PublicKeyList": 5}', "[]", '{"us-east-1": 1}', "{"),
        # Command-line and path strings.
        "trail-arns": j("arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events", "arn:aws:cloudtrail:::trail/",
                        "arn:aws:cloudtrail:us-east-1:11112222333\u0663:trail/x"),
        "paths": j("../../etc/passwd", "a/./b", "/abs", "a\\b", "a\x00b", ".", "a//b/"),
        "unicode": j("\u00e9\u4e2d\U0001f600\u202e\ufeff", "\u0662\u0660\u0662\u0666-03-01", "\U0001f600" * 40),
        "empty": b"",
        "separators-only": b"\xff" * 9,
        "junk-1k": bytes((i * 131 + 7) % 256 for i in range(1024)),
    }
    for name, v in seeds.items():
        out("evidence_strings", name, v.encode() if isinstance(v, str) else v)


def log_records_seeds():
    # Each seed: an inflated log file, as the replay reads it after verification.
    files = sample("log")
    for i, f in enumerate(files[::8]):
        out("log_records", f"sample-{i:02}", gzip.decompress(open(f, "rb").read()))
    seeds = {
        "escapes": r'{"Records":[{"eventName":"\u0041\ud83d\ude00","sourceIPAddress":"a\"b\\c\/d\n","userIdentity":{"type":"\u00e9"}}]}',
        "simple-escapes": r'{"Records":[{"sourceIPAddress":"a\"b\\c\/d\n","eventName":"\u00e9"}]}',
        "numbers": '{"Records":[{"requestParameters":{"n":[0,-0,-0.0,1e2,18446744073709551616,-9223372036854775809,1.5e-300]}}]}',
        "repeated-keys": '{"Records":[{"eventName":"a","eventName":"b"}],"Records":[{"eventName":"c"}]}',
        "not-objects": '{"Records":[1,"x",null,[],{"eventName":"ok"}]}',
        "deep": '{"Records":[{"requestParameters":' + "[" * 70 + "]" * 70 + ',"unread":' + "{\"a\":" * 70 + "1" + "}" * 70 + "}]}",
        "controls": '{"Records":[{"eventName":"a\tb","unread":"\u0000"}]}',
        "bad-utf8": b'{"Records":[{"eventName":"\xff","unread":"\xc3"}]}',
        "no-records": '{"x":{"Records":[]}}',
        "empty": b"",
        "whitespace": ' \n{ "Records" : [ { "eventName" : "x" } ] } \n',
    }
    for name, v in seeds.items():
        out("log_records", name, v.encode() if isinstance(v, str) else v)


GENERATORS = {
    "digest": digest_seeds,
    "public_key": public_key_seeds,
    "log_file": log_file_seeds,
    "evidence_strings": evidence_strings_seeds,
    "log_records": log_records_seeds,
}


if __name__ == "__main__":
    import sys
    # `make_seeds.py TARGET...` regenerates only those targets' seeds.
    wanted = sys.argv[1:] or list(GENERATORS)
    for t in wanted:
        if os.path.isdir(os.path.join(SEEDS, t)):
            shutil.rmtree(os.path.join(SEEDS, t))
        GENERATORS[t]()
    for t in sorted(os.listdir(SEEDS)):
        fs = os.listdir(os.path.join(SEEDS, t))
        print(t, len(fs), "files", sum(os.path.getsize(os.path.join(SEEDS, t, f)) for f in fs), "bytes")
