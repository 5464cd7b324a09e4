"""Settings of the two AWS Batch plugins we replace are never ignored silently."""

from snakemake_executor_plugin_aws_basic_batch_sls.foreign_settings import foreign_settings


def test_flags_of_both_plugins_are_named_with_our_equivalent():
    warnings = foreign_settings(
        [
            "snakemake", "--executor", "aws-basic-batch-sls",
            "--aws-basic-batch-job-queue", "q",
            "--aws-batch-task-timeout=600",
            "--aws-basic-batch-sls-stack", "mine",  # ours: not a warning
        ],
        {},
    )  # fmt: skip
    assert warnings == [
        "--aws-basic-batch-job-queue belongs to the aws-basic-batch plugin and is ignored by "
        "aws-basic-batch-sls: use --aws-basic-batch-sls-job-queue",
        "--aws-batch-task-timeout belongs to the aws-batch plugin and is ignored by aws-basic-batch-sls: "
        "use --aws-basic-batch-sls-task-timeout",
    ]


def test_environment_variables_of_both_plugins_are_named_and_ours_are_not():
    warnings = foreign_settings(
        [],
        {
            "SNAKEMAKE_AWS_BATCH_EXECUTION_ROLE": "arn:aws:iam::1:role/x",
            "SNAKEMAKE_AWS_BASIC_BATCH_TAGS": "a=b",
            "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK": "mine",
            "SNAKEMAKE_AWS_BATCH_REGION": "",  # set but empty: nothing to ignore
            "HOME": "/root",
        },
    )
    assert warnings == [
        "SNAKEMAKE_AWS_BASIC_BATCH_TAGS belongs to the aws-basic-batch plugin and is ignored by "
        "aws-basic-batch-sls: use --aws-basic-batch-sls-tags",
        "SNAKEMAKE_AWS_BATCH_EXECUTION_ROLE belongs to the aws-batch plugin and is ignored by "
        "aws-basic-batch-sls: use the execution role of your job definition (stack parameter JobDefinitionArn)",
    ]


def test_a_setting_with_no_equivalent_says_so():
    [warning] = foreign_settings(["--aws-basic-batch-coordinator-job-uuid", "x"], {})
    assert "no equivalent here" in warning and "--aws-basic-batch-sls-stack" in warning


def test_nothing_foreign_nothing_said():
    assert (
        foreign_settings(["snakemake", "--aws-basic-batch-sls-region", "eu-west-1"], {"PATH": "/bin"}) == []
    )
