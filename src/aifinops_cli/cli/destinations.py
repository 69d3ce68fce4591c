"""`--output-dir s3://bucket/prefix`: the reports are written to a local staging directory as
usual (atomically, every format), then uploaded with boto3, one object per file, under the
prefix. Credentials are the AWS chain of the scan (`--profile`, the environment, the instance
role); `AWS_ENDPOINT_URL` is honoured (MinIO, moto). An upload that fails is exit 2 after the
scan, saying which object, as a local report that cannot be written is."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aifinops_cli.cli.common import fail

SCHEME = "s3://"
CONTENT_TYPES = {".md": "text/markdown; charset=utf-8", ".json": "application/json", ".txt": "text/plain"}


@dataclass(frozen=True)
class S3Destination:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, value: str | None) -> S3Destination | None:
        """The destination of an `s3://` --output-dir (None: a local directory)."""
        if value is None or not value.startswith(SCHEME):
            if value is not None and value.startswith("s3:/"):
                fail(f"--output-dir {value}: an S3 destination is s3://bucket/prefix")
            return None
        bucket, _, prefix = value.removeprefix(SCHEME).partition("/")
        if not bucket:
            fail(f"--output-dir {value}: no bucket (s3://bucket/prefix)")
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    def url(self, relative: str) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}{relative}"

    def upload(self, staged: Path, files: Sequence[Path], profile: str | None) -> list[str]:
        """Each file (below `staged`) to its object; the s3:// URLs written, in order."""
        import boto3
        import boto3.exceptions
        import botocore.exceptions

        try:
            client = boto3.Session(profile_name=profile).client("s3")
        except botocore.exceptions.BotoCoreError as exc:
            fail(
                f"cannot upload the reports to {self.url('')}: {exc}",
                why="the scan finished, nothing uploaded",
            )
        urls: list[str] = []
        for path in files:
            relative = path.relative_to(staged).as_posix()
            kind = (
                CONTENT_TYPES.get(path.suffix)
                or mimetypes.guess_type(path.name)[0]
                or "application/octet-stream"
            )
            try:
                client.upload_file(
                    str(path), self.bucket, self.prefix + relative, ExtraArgs={"ContentType": kind}
                )
            except boto3.exceptions.S3UploadFailedError as exc:  # "Failed to upload <tmp> to b/k: why"
                fail(
                    f"cannot upload {self.url(relative)}: {_first_line(str(exc).split(': ', 1)[-1], exc)}"
                    + (f"; uploaded before it: {', '.join(urls)}" if urls else ""),
                    why="the scan finished, upload failed",
                )
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError) as exc:
                reason = _first_line(str(exc), exc)
                done = f"; uploaded before it: {', '.join(urls)}" if urls else ""
                fail(
                    f"cannot upload {self.url(relative)}: {reason}{done}",
                    why="the scan finished, upload failed",
                )
            urls.append(self.url(relative))
        return urls


def _first_line(text: str, exc: BaseException) -> str:
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
