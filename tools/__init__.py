"""Developer tools for aws-basic-batch-sls (run from the repository root)."""
