"""Credentials in Snakemake's envvars() never reach a Batch job's plaintext environment."""

from snakemake_executor_plugin_aws_basic_batch_sls.environment import split_environment


def test_credentials_and_secret_looking_values_are_withheld():
    kept, withheld = split_environment(
        {
            "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:5000",
            "SNAKEMAKE_STORAGE_S3_ACCESS_KEY": "AKIAIOSFODNN7EXAMPLE",
            "SNAKEMAKE_STORAGE_S3_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN": "token",
            "GITHUB_TOKEN": "ghp_x",
            "DB_PASSWORD": "hunter2",
            "INNOCENT_NAME": "AKIAIOSFODNN7EXAMPLE",
            "TLS": "-----BEGIN RSA PRIVATE KEY-----\nabc",
            "SNAKEMAKE_STORAGE_S3_RETRIES": "5",
        }
    )
    assert kept == {
        "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:5000",
        "SNAKEMAKE_STORAGE_S3_RETRIES": "5",
    }
    assert withheld == [
        "AWS_SESSION_TOKEN", "DB_PASSWORD", "GITHUB_TOKEN", "INNOCENT_NAME",
        "SNAKEMAKE_STORAGE_S3_ACCESS_KEY", "SNAKEMAKE_STORAGE_S3_SECRET_KEY", "TLS",
    ]  # fmt: skip
