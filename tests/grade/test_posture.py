"""The S3 posture check on moto's S3 server (a real HTTP endpoint on 127.0.0.1; it stores a bucket's encryption
and public-access-block settings as S3 does, without enforcing IAM)."""

from __future__ import annotations

import boto3
import pytest

from pipeline.grade.checks import Context, bucket_private
from pipeline.settings import apply_overrides, settings_from_outputs
from tests.helpers.cloud import cloud_outputs, fake_aws, s3_server, unique_stack

__all__ = ["fake_aws", "s3_server"]  # moto's S3 server fixtures, shared with the cloud tests

SSE_AES256 = {"SSEAlgorithm": "AES256"}
BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@pytest.fixture
def s3_stack(s3_server: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOPSTREAM_S3_ENDPOINT", s3_server)
    stack = unique_stack()
    outputs = {**cloud_outputs(stack), "pipeline_access_key_id": "testing", "pipeline_secret_access_key": "testing"}
    settings = apply_overrides(settings_from_outputs(stack, outputs, "test outputs"))
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = settings.lake.uri.removeprefix("s3://")
    s3.create_bucket(Bucket=bucket)
    return settings, s3, bucket


def check(settings) -> tuple[bool | None, str]:
    outcome = bucket_private(Context(settings=settings, key={}, other_keys={}, reader=None))
    return outcome.passed, outcome.detail


def test_encrypted_blocked_bucket_passes(s3_stack) -> None:
    settings, s3, bucket = s3_stack
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": SSE_AES256}]},
    )
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL)
    assert check(settings) == (True, "encrypted, public access blocked")


def test_bucket_open_to_public_policies_fails_with_the_setting(s3_stack) -> None:
    settings, s3, bucket = s3_stack
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**BLOCK_ALL, "BlockPublicPolicy": False})
    passed, detail = check(settings)
    assert passed is False
    assert "public access not fully blocked (BlockPublicPolicy off)" in detail


def test_local_lake_is_not_applicable(alice) -> None:
    assert check(alice)[0] is None
