"""The photo bucket: Cloudflare R2 in production, an S3-compatible server in dev and tests."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError


class Storage:
    """The photo bucket. Keys are namespaced ``operators/<op>/projects/<project>/photos/<photo>/<name>``."""

    def __init__(self, settings):
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.ttl_s = settings.upload_url_ttl_s
        self.create_bucket = settings.create_bucket
        self._bucket_checked = False
        self._client = None
        self._client_lock = threading.Lock()

    @property
    def client(self):
        """The S3 client, made on first use: boto3 and the S3 model cost a worker ~23 MB, which the
        many workers that never handle an upload should not carry (issue 8's memory goal)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    settings = self.settings
                    self._client = boto3.client(
                        "s3",
                        endpoint_url=settings.s3_endpoint_url,
                        region_name=settings.s3_region,
                        aws_access_key_id=settings.aws_access_key_id,
                        aws_secret_access_key=settings.aws_secret_access_key,
                        config=Config(
                            signature_version="s3v4",
                            s3={"addressing_style": "path"},
                            connect_timeout=2,
                            read_timeout=10,
                            retries={"max_attempts": 2, "mode": "standard"},
                        ),
                    )
        return self._client

    def ensure_bucket(self) -> None:
        # Dev and tests start from an empty S3 stand-in; production buckets are provisioned.
        if self.create_bucket and not self._bucket_checked:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self.client.create_bucket(Bucket=self.bucket)
            self._bucket_checked = True

    def upload_url(self, key: str, content_type: str, size_bytes: int) -> str:
        """A PUT URL whose signature covers the content type and length, so neither can be swapped."""
        return self.client.generate_presigned_url(
            "put_object",
            ExpiresIn=self.ttl_s,
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size_bytes},
        )

    def head(self, key: str) -> dict | None:
        self.ensure_bucket()
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete_objects(self, keys: list[str]) -> None:
        """Delete up to 1000 keys; missing keys count as deleted. Raises on any other per-key error."""
        self.ensure_bucket()
        response = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
        errors = [error for error in response.get("Errors", []) if error.get("Code") != "NoSuchKey"]
        if errors:
            raise RuntimeError(f"R2 refused {len(errors)} deletions, first: {errors[0]}")
