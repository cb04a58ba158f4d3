"""IAM policy documents of the stack, as plain functions of ARNs (easy to read, easy to test).

Every statement names this stack's bucket explicitly: no `*` action or resource anywhere.
"""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]
RAW_PREFIX = "raw/"


def _document(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny_insecure_transport(bucket_arn: str) -> Document:
    """Bucket policy: refuse every request that does not use TLS."""
    return _document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def pipeline_lake_access(bucket_arn: str) -> Document:
    """The pipeline user's rights: list this bucket, read, write and delete its objects (atomic publish, cleanup)."""
    return _document(
        {
            "Sid": "ListLake",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadWriteLakeObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket_arn}/*",
        },
    )


def snowflake_trust(iam_user_arn: str, external_id: str) -> Document:
    """Trust policy: only the storage integration's Snowflake IAM user, with its external id, may assume the role."""
    return _document(
        {
            "Sid": "SnowflakeStorageIntegration",
            "Effect": "Allow",
            "Principal": {"AWS": iam_user_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )


def snowflake_read_raw(bucket_arn: str) -> Document:
    """What Snowflake may do through the integration: read the raw zone of this bucket, nothing else."""
    return _document(
        {
            "Sid": "ReadRawObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"{bucket_arn}/{RAW_PREFIX}*",
        },
        {
            "Sid": "ListRawPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{RAW_PREFIX}*"]}},
        },
        {
            "Sid": "LocateBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
        },
    )
