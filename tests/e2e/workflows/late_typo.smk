# A typo in the resources of the last rule: the run stops before the first job, naming rule and resource.
rule all:
    input:
        "late.txt",


rule early:
    output:
        "early.txt",
    shell:
        "echo early > {output}"


rule late:
    input:
        "early.txt",
    output:
        "late.txt",
    resources:
        aws_batch_vcpu="four",
        aws_batch_task_timeout=30,
    shell:
        "cp {input} {output}"
