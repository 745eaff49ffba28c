"""A real S3 endpoint for tests: moto's server on 127.0.0.1, a free port, stopped at the end.

    from helpers.s3 import s3  # noqa: F401  (the fixture)

    def test_x(s3):
        s3.client().create_bucket(Bucket="b")
        run(["dvc", "remote", "modify", "s3", "endpointurl", s3.endpoint], repo)

The server speaks the S3 protocol over HTTP, so DVC's S3 remote (dvc-s3 through aiobotocore) and Snakemake's S3
storage plugin (boto3) talk to it as to AWS; the credentials are moto's dummies, set in the environment for the
whole session. Requires the `s3` and `test` extras (moto[server]).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

BIN = Path(sys.executable).parent
# moto accepts any credentials; these are its documented dummies, never a real account's
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>
    pid: int

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            region_name=CREDENTIALS["AWS_DEFAULT_REGION"])

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """key -> size of every object under `prefix`."""
        out = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(log: Path, timeout: float = 60) -> Iterator[S3Server]:
    """`moto_server -H 127.0.0.1 -p <free port>`, up once it answers HTTP; stopped (its process group, by pid) on
    exit."""
    exe = BIN / "moto_server"
    if not exe.exists():
        pytest.skip("moto_server not installed: pip install -e '.[s3,test]'")
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(endpoint, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {endpoint} within {timeout:.0f}s")
                time.sleep(0.2)
        yield S3Server(endpoint, proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def s3(tmp_path_factory) -> Iterator[S3Server]:
    """A moto S3 server for the session, with its dummy credentials in the environment (of the tests and of the
    `dvc` and `snakemake` processes they start)."""
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as server:
            yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
