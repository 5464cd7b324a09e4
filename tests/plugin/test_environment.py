"""Credentials in Snakemake's envvars() never reach a Batch job's plaintext environment; nothing else is lost."""

import pytest

from snakemake_executor_plugin_aws_basic_batch_sls.environment import split_environment

# Names that are credentials, each with a value that on its own looks harmless.
WITHHELD_NAMES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SNAKEMAKE_STORAGE_S3_ACCESS_KEY",
    "SNAKEMAKE_STORAGE_S3_SECRET_KEY",
    "SNAKEMAKE_STORAGE_S3_TOKEN",
    "SNAKEMAKE_STORAGE_AZURE_ACCOUNT_KEY",
    "SNAKEMAKE_STORAGE_AZURE_SAS_TOKEN",
    "SNAKEMAKE_STORAGE_GCS_KEY",
    "SNAKEMAKE_STORAGE_FTP_PASSWORD",
    "AZURE_STORAGE_CONNECTION_STRING",
    "DB_PASSWORD",
    "DB_PASS",
    "SMTP_PASSWD",
    "PGPASSWORD",
    "MYSQL_PWD",
    "APP_SECRET",
    "SECRETS_JSON",
    "CLIENT_SECRET_VALUE",
    "GITHUB_TOKEN",
    "HF_TOKEN",
    "SLACK_ACCESSTOKEN",
    "SSH_KEY",
    "OPENAI_KEY",
    "STRIPE_KEY",
    "SIGNING_KEY",
    "GPG_PRIVATE_KEY",
    "SERVICE_API_KEY",
    "OPENAI_APIKEY",
    "MINIO_ACCESSKEY",
    "ENCRYPTION_KEYS",
    "GH_PAT",
    "SENTRY_DSN",
    "ROBOT_CREDENTIAL",
    "REGISTRY_CREDS",
    "SESSION_COOKIE",
    "PRIVATE_REPO_URL",
    "HTTP_AUTH",
    "PROXY_AUTHORIZATION",
    "KEY",
    "PASS",
    "db_password",  # names are judged upper-cased
]

# Ordinary names whose words only contain AUTH, SESSION, TOKEN, KEY, PASS, ...
PASSED_NAMES = [
    "AUTHOR_NAME",
    "SESSION_DIR",
    "SESSION_ID",
    "TOKENIZER",
    "TOKENIZERS_PARALLELISM",
    "MAX_TOKENS",
    "KEYBOARD",
    "MONKEY_COUNT",
    "PASSAGE_FILE",
    "BYPASS_CACHE",
    "COMPASS_DIR",
    "FIRST_PASS_DIR",  # PASS counts only as the last word
    "KEY_COLUMN",  # KEY counts only as the last word or after ACCESS/API/PRIVATE/...
    "KMS_KEY_ID",
    "PWD",  # alone it is the working directory
    "OLDPWD",
    "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL",
    "SNAKEMAKE_STORAGE_S3_RETRIES",
    "SNAKEMAKE_STORAGE_AZURE_ENDPOINT_URL",
    "HOME",
    "PATH",
    "LANG",
    "OMP_NUM_THREADS",
    "PRIVATEER_MODE",
    "CONNECTION_TIMEOUT",
    "ACCESS_LOG",
]

# Values that are credentials whatever the variable is called.
WITHHELD_VALUES = [
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAY34FZKBOKMUTVV7A",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl",
    "-----BEGIN PRIVATE KEY-----\nMIIE",
    "postgres://u:pw@host/db",
    "https://:x-oauth-basic@github.com/org/repo.git",
    "amqp://guest:guest@rabbit:5672/",
    "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc123==;EndpointSuffix=core.windows.net",
    "Server=db;Database=app;User Id=sa;Password=hunter2;",
    "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=abc=",
    "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2020-08-04&sig=abc",
    "ghp_" + "a1B2" * 9,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]

# Values that only resemble credentials.
PASSED_VALUES = [
    "postgres://host:5432/db",  # DATABASE_URL without a password
    "postgres://user@host/db",
    "http://127.0.0.1:5000",
    "s3://bucket/prefix:with:colons@v1",
    "Server=db;Database=app;Integrated Security=true;",
    "AKIA",
    "ghp_short",
    "eyJust a sentence",
    "author@example.com",
    "",
]


@pytest.mark.parametrize("name", WITHHELD_NAMES)
def test_a_credential_name_is_withheld(name):
    assert split_environment({name: "harmless"}) == ({}, [name])


@pytest.mark.parametrize("name", PASSED_NAMES)
def test_an_ordinary_name_is_passed(name):
    assert split_environment({name: "harmless"}) == ({name: "harmless"}, [])


@pytest.mark.parametrize("value", WITHHELD_VALUES)
def test_a_credential_value_is_withheld_whatever_the_name(value):
    assert split_environment({"DATABASE_URL": value}) == ({}, ["DATABASE_URL"])


@pytest.mark.parametrize("value", PASSED_VALUES)
def test_a_value_that_only_resembles_a_credential_is_passed(value):
    assert split_environment({"DATABASE_URL": value}) == ({"DATABASE_URL": value}, [])


def test_the_kept_environment_is_exact_and_the_withheld_names_are_sorted():
    kept, withheld = split_environment(
        {
            "SNAKEMAKE_STORAGE_S3_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:5000",
            "AWS_SESSION_TOKEN": "token",
            "SESSION_ID": "run-42",
            "INNOCENT_NAME": "AKIAIOSFODNN7EXAMPLE",
            "DATABASE_URL": "postgres://u:pw@host/db",
            "TOKENIZERS_PARALLELISM": "false",
            "DB_PASS": "hunter2",
            "EMPTY": "",
        }
    )
    assert kept == {
        "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:5000",
        "SESSION_ID": "run-42",
        "TOKENIZERS_PARALLELISM": "false",
        "EMPTY": "",
    }
    assert withheld == [
        "AWS_SESSION_TOKEN",
        "DATABASE_URL",
        "DB_PASS",
        "INNOCENT_NAME",
        "SNAKEMAKE_STORAGE_S3_SECRET_KEY",
    ]


def test_an_empty_environment_withholds_nothing():
    assert split_environment({}) == ({}, [])
