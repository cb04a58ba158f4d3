"""The Pulumi program that provisions one ShopStream cloud stack: S3 lake, Snowflake warehouse, optional PostgreSQL.

`__main__.py` is the entry point Pulumi runs; `stack.build()` assembles the components; `policies/` holds the
guardrails policy pack. Every name comes from `pipeline.naming.StackNames`, so the pipeline finds what was created.
"""
