"""Object storage on any S3 endpoint (MinIO in production, SeaweedFS locally) via the minio SDK.

Objects are opaque ciphertext; this module never sees plaintext records.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error


class StorageError(RuntimeError):
    """The object store is unreachable or refused the request."""


class ObjectMissing(StorageError):
    """No object is stored under the requested key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    modified: datetime | None = None


def _short_timeouts() -> urllib3.PoolManager:
    # Fail fast when the store is down instead of hanging a web request for minutes.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3, read=30),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
    )


class Storage:
    """A bucket on an S3 endpoint."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool = False):
        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
                            http_client=_short_timeouts())

    @classmethod
    def from_config(cls, config) -> Storage:
        """Build from an app config mapping (``S3_*`` keys)."""
        return cls(config["S3_ENDPOINT"], config["S3_ACCESS_KEY"], config["S3_SECRET_KEY"],
                   config["S3_BUCKET"], config["S3_SECURE"])

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(f"object not found: {args[1] if len(args) > 1 else ''}") from None
            raise StorageError(f"object store refused the request: {exc.code}") from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"object store unreachable: {type(exc).__name__}") from None

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist."""
        if not self._call(self.client.bucket_exists, self.bucket):
            self._call(self.client.make_bucket, self.bucket)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> ObjectInfo:
        """Store ``data`` under ``key``."""
        result = self._call(self.client.put_object, self.bucket, key, io.BytesIO(data), len(data),
                            content_type=content_type)
        return ObjectInfo(key, len(data), result.etag)

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`ObjectMissing` if there are none."""
        resp = self._call(self.client.get_object, self.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and etag of ``key``, or None if absent."""
        try:
            st = self._call(self.client.stat_object, self.bucket, key)
        except ObjectMissing:
            return None
        return ObjectInfo(key, st.size, st.etag)

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if absent)."""
        self._call(self.client.remove_object, self.bucket, key)

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``."""
        objects = self._call(lambda: list(self.client.list_objects(self.bucket, prefix=prefix, recursive=True)))
        return [ObjectInfo(o.object_name, o.size, o.etag, o.last_modified) for o in objects]

    def healthy(self) -> bool:
        """True if the bucket is reachable with our credentials."""
        try:
            return bool(self._call(self.client.bucket_exists, self.bucket))
        except StorageError:
            return False
