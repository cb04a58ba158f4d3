"""The S3 lake of a stack and the IAM user the pipeline writes it with."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import iam_documents
from pipeline.naming import LAKE_PREFIXES, StackNames


class Lake(pulumi.ComponentResource):
    """A private, encrypted, TLS-only bucket with the lake's prefixes in place. `pulumi destroy` empties it."""

    def __init__(self, name: str, names: StackNames, tags: dict[str, str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("shopstream:infra:Lake", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket=names.bucket, force_destroy=True, tags=tags, opts=child)
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # S3 rejects policy changes while the public access block is being applied: order them.
        self.tls_policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(iam_documents.deny_insecure_transport(arn))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        # Empty "folder" objects so the layout is visible in the console before the first extraction.
        self.prefix_markers = [
            aws.s3.BucketObjectv2(
                f"{name}-marker-{prefix.replace('/', '-')}",
                bucket=self.bucket.id,
                key=f"{prefix}/",
                content="",
                content_type="application/x-directory",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.encryption]),
            )
            for prefix in sorted(set(LAKE_PREFIXES.values()))
        ]
        self.uri = pulumi.Output.concat("s3://", self.bucket.bucket)
        self.register_outputs({"bucket": self.bucket.bucket, "uri": self.uri})


class PipelineIdentity(pulumi.ComponentResource):
    """The IAM user the pipeline runs as: read, write and delete in this stack's bucket only."""

    def __init__(
        self,
        name: str,
        names: StackNames,
        bucket: aws.s3.Bucket,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.user = aws.iam.User(f"{name}-user", name=names.iam_user, tags=tags, force_destroy=True, opts=child)
        self.policy = aws.iam.UserPolicy(
            f"{name}-lake-access",
            user=self.user.name,
            policy=bucket.arn.apply(lambda arn: json.dumps(iam_documents.pipeline_lake_access(arn))),
            opts=child,
        )
        self.access_key = aws.iam.AccessKey(f"{name}-access-key", user=self.user.name, opts=child)
        self.access_key_id = self.access_key.id
        self.secret_access_key = pulumi.Output.secret(self.access_key.secret)
        self.register_outputs({"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key})
