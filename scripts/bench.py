#!/usr/bin/env python3
"""trailproof's benchmark: trailproof against `aws cloudtrail validate-logs` on the same trail.

Builds the data with the trail simulator, starts s3s-fs (S3), the moto emulator (ListPublicKeys)
and a loopback latency proxy in front of s3s-fs, then prints:
  1. S3 with added latency per request: median wall time of the AWS CLI and of trailproof over
     alternating runs, and their ratio;
  2. a local evidence copy (--source): trailproof's rate of inflated log bytes verified, the
     machine's limit (inflate + SHA-256 of the same files on every core) and their ratio;
  3. trailproof's peak RSS at three range sizes, each 10x the last;
  4. the listing requests trailproof made for the full range and for half of it;
  5. backtest (the CIS baseline's 15 filters and alarms) against validate-logs on the local copy:
     the replay reads the same bytes once, so it should cost at most about 2x.

Run it through scripts/bench, which builds and installs what it needs. `--smoke` runs a tiny
version (used by the test suite so that the benchmark cannot rot).
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"
S3S = Path(shutil.which("s3s-fs") or "s3s-fs")  # scripts/setup.sh installs it on PATH
PY = Path(os.environ.get("TRAILPROOF_PYTHON", ROOT / ".venv/bin/python"))
ACCOUNT = "111122223333"
BUCKET = "bench-trail"
START = "2026-03-01T00:17:42Z"
RSS_START = "2026-02-10T01:17:42Z"
AK, SK = "benchaccesskey", "benchsecretkey"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, ready=None, env=None):
    """Starts a server; waits for its READY line or for its port to accept."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    if ready is None:
        return p, p.stdout.readline().split()[1]
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", ready), timeout=0.1).close()
            return p, str(ready)
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{cmd[0]} did not start")


def run_rss(cmd, env):
    """Runs cmd and returns (seconds, peak RSS MB, stdout) using wait4 for this child's rusage."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss / 1024, out.decode(), p.returncode


def timed(cmd, env, runs, what):
    """Runs `cmd` `runs` times; its wall times, and the last run's peak RSS and output. A run that
    fails ends the benchmark."""
    times = []
    for _ in range(runs):
        seconds, peak, out, code = run_rss(cmd, env)
        if code != 0:
            raise SystemExit(f"{what} failed (exit {code}):\n{out}")
        times.append(seconds)
    return times, peak, out


def counts(text, what):
    for line in text.splitlines():
        if line.endswith(f" {what} files valid") or f" {what} files valid," in line:
            return line.split()[0]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--hours", type=int, default=48)
    ap.add_argument("--logs-per-hour", type=int, default=50)
    # Peak RSS as the range grows: hours of a trail with RSS_LOGS_PER_HOUR log files each.
    ap.add_argument("--rss-hours", default="12,120,1200")
    ap.add_argument("--bin-dir", default=str(ROOT / "target/release"), help="where trailproof and trailproof-sim are")
    a = ap.parse_args()
    global BIN, SIM
    BIN, SIM = Path(a.bin_dir) / "trailproof", Path(a.bin_dir) / "trailproof-sim"
    if a.smoke:
        a.runs, a.hours, a.logs_per_hour, a.rss_hours = 1, 3, 4, "1,10,100"
    records = ("30", "60") if a.smoke else ("150", "250")

    work = BENCH / ("smoke" if a.smoke else "run")
    shutil.rmtree(work, ignore_errors=True)
    (work / "s3").mkdir(parents=True)
    procs = []
    try:
        s3_port = free_port()
        procs.append(start([str(S3S), "--host", "127.0.0.1", "--port", str(s3_port), "--access-key", AK, "--secret-key", SK, str(work / "s3")], ready=s3_port)[0])
        emu, emu_port = start([str(PY), str(ROOT / "tests/emulator/emulator.py"), str(ROOT / "keys/public-keys")])
        procs.append(emu)
        counts_file = work / "proxy-counts.json"
        proxy, proxy_port = start([str(PY), str(ROOT / "tests/bench/latency_proxy.py"), str(s3_port), str(a.latency_ms), str(counts_file)])
        procs.append(proxy)

        base_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "AWS_ACCESS_KEY_ID": AK,
            "AWS_SECRET_ACCESS_KEY": SK,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        sim_args = ["trail", "--bucket", BUCKET, "--start", START, "--hours", str(a.hours),
                    "--min-logs", str(a.logs_per_hour), "--max-logs", str(a.logs_per_hour),
                    "--min-records", records[0], "--max-records", records[1]]
        env = dict(base_env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{s3_port}")
        subprocess.run([str(SIM), "--keys-dir", str(ROOT / "keys"), *sim_args, "--s3"], env=env, check=True, stdout=subprocess.DEVNULL)
        local = work / "local"
        made = subprocess.run([str(SIM), "--keys-dir", str(ROOT / "keys"), *sim_args, "--out", str(local)], check=True, capture_output=True, text=True).stdout.strip()

        arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events"
        at = lambda hours: (datetime.strptime(START, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = at(a.hours)
        rng = ["--trail-arn", arn, "--start-time", START, "--end-time", end, "--s3-bucket", BUCKET]
        online = dict(base_env, AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{proxy_port}", AWS_ENDPOINT_URL=f"http://127.0.0.1:{emu_port}")
        cli = [str(PY), "-m", "awscli", "cloudtrail", "validate-logs", *rng]
        ours = [str(BIN), "validate-logs", *rng, "--no-progress"]

        print(f"trailproof benchmark{' (smoke)' if a.smoke else ''}: {made}; {os.cpu_count()} cores")
        print(f"reproduce: scripts/bench{' --smoke' if a.smoke else ''}\n")
        times = {"aws cli": [], "trailproof": []}
        for _ in range(a.runs):
            for name, cmd in (("aws cli", cli), ("trailproof", ours)):
                seconds, _, out, code = run_rss(cmd, online)
                valid = (counts(out, "digest"), counts(out, "log"))
                if code != 0 or None in valid:
                    raise SystemExit(f"{name} did not validate cleanly (exit {code}):\n{out}")
                times[name].append(seconds)
                print(f"  {name:10} {seconds:8.2f} s   digests {valid[0]}, log files {valid[1]}")
        cli_s, ours_s = statistics.median(times["aws cli"]), statistics.median(times["trailproof"])
        print(f"1. S3 + {a.latency_ms} ms/request: aws cli median {cli_s:.2f} s, trailproof median {ours_s:.2f} s, ratio {cli_s / ours_s:.1f}x (target >= 30x)\n")

        keys = ["--public-keys", str(ROOT / "keys/public-keys/us-east-1.json")]
        offline = dict(base_env, AWS_ENDPOINT_URL="http://127.0.0.1:9")
        local_cmd = [str(BIN), "validate-logs", *rng[:6], "--source", str(local), *keys, "--no-progress"]
        local_times, _, _ = timed(local_cmd, offline, a.runs, "local validation")
        limit = json.loads(subprocess.run([str(SIM), "cpu-limit", "--dir", str(local)], check=True, capture_output=True, text=True).stdout)
        rate = limit["inflated_bytes"] / statistics.median(local_times)
        mb = 1e6
        print(f"2. local copy: {limit['files']} log files, {limit['inflated_bytes'] / mb:.0f} MB inflated; trailproof {rate / mb:.0f} MB/s, "
              f"limit {limit['limit_bytes_per_sec'] / mb:.0f} MB/s on {limit['cores']} cores, ratio {100 * rate / limit['limit_bytes_per_sec']:.0f}% (target >= 70%)")
        print("   single core, MB/s: " + ", ".join(f"{k} {v / mb:.0f}" for k, v in limit["single_core_bytes_per_sec"].items()) + "\n")

        backtest_cmd = [str(BIN), "backtest", *rng[:6], "--source", str(local), *keys, "--no-progress", "--baseline", "cis", "--output", "json"]
        backtest_times, peak, out = timed(backtest_cmd, offline, a.runs, "backtest")
        replayed = json.loads(out)["evidence"]
        bt_s, local_s = statistics.median(backtest_times), statistics.median(local_times)
        backtest_line = (f"5. backtest --baseline cis on the local copy: {bt_s:.2f} s for {replayed['events_replayed']} events in {replayed['log_files_replayed']} log files "
                         f"(peak RSS {peak:.0f} MB); validate-logs {local_s:.2f} s; ratio {bt_s / local_s:.2f}x (target <= 2x)\n")

        rss = []
        per_hour = 2 if a.smoke else 84
        for hours in [int(x) for x in a.rss_hours.split(",")]:
            d = work / f"rss-{hours}"
            # Starts early enough that 1,200 hours stay inside the test keys' validity windows.
            subprocess.run([str(SIM), "--keys-dir", str(ROOT / "keys"), "trail", "--bucket", BUCKET, "--start", RSS_START, "--hours", str(hours),
                            "--min-logs", str(per_hour), "--max-logs", str(per_hour), "--min-records", "1", "--max-records", "2", "--out", str(d)],
                           check=True, stdout=subprocess.DEVNULL)
            rss_end = (datetime.strptime(RSS_START, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
            cmd = [str(BIN), "validate-logs", "--trail-arn", arn, "--start-time", RSS_START, "--end-time", rss_end, "--source", str(d), *keys, "--no-progress"]
            seconds, peak, out, code = run_rss(cmd, offline)
            if code != 0:
                raise SystemExit(f"RSS run failed (exit {code}):\n{out}")
            rss.append(peak)
            print(f"3. peak RSS over {hours:>5} hours, {per_hour * hours:>7} log files: {peak:6.1f} MB ({seconds:.1f} s)")
            shutil.rmtree(d)
        print(f"   (target: < 200 MB and flat; largest/smallest = {rss[-1] / rss[0]:.2f})\n")

        def list_requests(end_time):
            """The requests one trailproof run made, from the proxy's running totals."""
            before = json.loads(counts_file.read_text())
            cmd = [str(BIN), "validate-logs", "--trail-arn", arn, "--start-time", START, "--end-time", end_time, "--s3-bucket", BUCKET, "--no-progress"]
            subprocess.run(cmd, env=online, stdout=subprocess.DEVNULL, check=True)
            after = json.loads(counts_file.read_text())
            return {k: after[k] - before[k] for k in after}
        half = at(a.hours / 2)
        full_c, half_c = list_requests(end), list_requests(half)
        print(f"4. listing: full range {full_c['list_requests']} list requests of {full_c['requests']}; half range {half_c['list_requests']} of {half_c['requests']}")
        print(backtest_line)
    finally:
        for p in procs:
            p.kill()


if __name__ == "__main__":
    main()
