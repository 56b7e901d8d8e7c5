"""`make fuzz`: schemathesis over /api/swagger.json against a real `python main.py`; fails on any 5xx.

Starts the horde on a free port with a fresh data directory (SQLite; `--postgres URL` for PostgreSQL),
creates a user with kudos for the fuzzer's API key, and lets schemathesis generate requests for every
operation (valid and invalid bodies, NUL bytes included) for at most `--seconds`. Any 500 (the check
`not_a_server_error`) or an "unhandled error" in the server's log fails the run. CI runs it after `make test`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "150")))
    parser.add_argument("--examples", type=int, default=40, help="examples per operation")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (an empty database) instead of SQLite")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hordebot-fuzz-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
        env.update({"HORDE_CORE__DATA_DIR": str(Path(tmp) / "data"), "HORDE_API__PORT": str(port),
                    "HORDE_API__REQUESTS_PER_SECOND": "1000", "HORDE_API__REQUEST_BURST": "100000",
                    "HORDE_CORE__DEFAULT_CONCURRENCY": "100000", "HORDE_CORE__ANONYMOUS_CONCURRENCY": "100000"})
        if args.postgres:
            env["HORDE_CORE__DATABASE_URL"] = args.postgres
        created = subprocess.run([sys.executable, "main.py", "user", "create", "fuzzer", "--kudos", "1000000"],
                                 cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        key = created.stdout.strip().splitlines()[-1]
        log_path = Path(tmp) / "server.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(300):
                    try:
                        with urllib.request.urlopen(f"{base}/api/v2/status/heartbeat", timeout=2):
                            break
                    except OSError:
                        time.sleep(0.1)
                fuzz = subprocess.run([
                    str(BIN / "st"), "run", f"{base}/api/swagger.json", "--checks", "not_a_server_error",
                    "-H", f"apikey: {key}", "--max-time", str(args.seconds), "-n", str(args.examples),
                    "--seed", "12", "--generation-allow-x00", "true", "--workers", "2", "--request-timeout", "30",
                    "--continue-on-failure", "--warnings", "off"], cwd=tmp, capture_output=True, text=True)
                print(fuzz.stdout[-20000:], fuzz.stderr[-5000:], sep="\n")
            finally:
                server.terminate()
                server.wait(timeout=30)
        lines = log_path.read_text().splitlines()
        errors = [i for i, line in enumerate(lines) if "unhandled error" in line or "Traceback" in line]
        if errors:
            print("The server logged unhandled errors:\n" + "\n".join(lines[max(0, errors[0] - 3):errors[0] + 40]),
                  file=sys.stderr)
    # Judged on what the server did: schemathesis itself may stop on an internal error of its own (seen on
    # Python 3.11's AST module), which says nothing about the API.
    server_errors = "Server error" in fuzz.stdout
    tested = re.search(r"Tested: (\d+)", fuzz.stdout)
    ok = not errors and not server_errors and tested is not None and int(tested.group(1)) > 0
    print(f"fuzz: {'passed' if ok else 'FAILED'} ({args.seconds} s budget)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
