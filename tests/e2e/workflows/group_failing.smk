# A job group whose second rule fails: the group's one Batch job fails, and the message names the rule.
rule all:
    input:
        "second.txt",


rule first:
    output:
        "first.txt",
    group:
        "pipeline"
    shell:
        "echo ok > {output}"


rule second:
    input:
        "first.txt",
    output:
        "second.txt",
    group:
        "pipeline"
    shell:
        "echo 'second is about to fail' && exit 3"
