"""The S3 lake of a stack and the IAM user the pipeline writes it with.

Tags come from the AWS provider's default tags (infra/providers.py), so no resource here repeats them.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import iam_documents
from infra.providers import fixed_name
from pipeline.lake_contract import QUARANTINE_PREFIX
from pipeline.naming import LAKE_PREFIXES, StackNames

# The extractor uploads large files in parts: parts of an interrupted upload are billed until aborted.
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 1
QUARANTINE_EXPIRES_AFTER_DAYS = 30
BUDGET_ALERT_PERCENT = (80, 100)


class Lake(pulumi.ComponentResource):
    """A private, encrypted, TLS-only bucket with the lake's prefixes in place. `pulumi destroy` empties it."""

    def __init__(
        self, name: str, names: StackNames, provider: aws.Provider, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("shopstream:infra:Lake", name, None, opts)
        # One of each per bucket: replacing one create-first would let the old one's delete undo the new one.
        singleton = fixed_name(self, provider)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=names.bucket, force_destroy=True, opts=fixed_name(self, provider)
        )
        # `bucket.bucket` (an input, known at preview) rather than `bucket.id`: the policy pack can match the
        # bucket's settings to the bucket before it exists.
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=singleton,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=singleton,
        )
        # S3 rejects policy changes while the public access block is being applied: order them.
        self.tls_policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.bucket,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(iam_documents.deny_insecure_transport(arn))),
            opts=fixed_name(self, provider, depends_on=[self.public_access_block]),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-quarantine",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{QUARANTINE_PREFIX}/"),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=QUARANTINE_EXPIRES_AFTER_DAYS
                    ),
                ),
            ],
            opts=singleton,
        )
        # Empty "folder" objects so the layout is visible in the console before the first extraction.
        self.prefix_markers = [
            aws.s3.BucketObjectv2(
                f"{name}-marker-{prefix.replace('/', '-')}",
                bucket=self.bucket.id,
                key=f"{prefix}/",
                content="",
                content_type="application/x-directory",
                opts=fixed_name(self, provider, depends_on=[self.encryption]),
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
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.user = aws.iam.User(
            f"{name}-user", name=names.iam_user, force_destroy=True, opts=fixed_name(self, provider)
        )
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


class CostBudget(pulumi.ComponentResource):
    """A monthly AWS budget on the stack's own costs (its `stack` tag) that e-mails the owner at 80 % and 100 %.

    The tag filter counts only once `stack` is activated as a cost allocation tag (a one-time step in Billing).
    The owner's address is a secret, so it never shows in plan output.
    """

    def __init__(
        self,
        name: str,
        names: StackNames,
        limit_usd: int,
        owner_email: str,
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:CostBudget", name, None, opts)
        email = pulumi.Output.secret(owner_email)
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            name=names.budget,
            budget_type="COST",
            limit_amount=str(limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:stack${names.qualified}"])
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                    notification_type="ACTUAL",
                    subscriber_email_addresses=[email],
                )
                for percent in BUDGET_ALERT_PERCENT
            ],
            opts=fixed_name(self, provider),
        )
        self.register_outputs({"budget": self.budget.name})
