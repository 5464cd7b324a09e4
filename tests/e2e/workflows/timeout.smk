rule all:
    input:
        "slow.txt",


rule slow:
    output:
        "slow.txt",
    resources:
        aws_batch_task_timeout=60,
    shell:
        "sleep 600; touch {output}"
