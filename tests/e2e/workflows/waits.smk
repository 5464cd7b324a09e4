# Two jobs that each take the whole local Batch (threads = its vCPUs): the second waits in RUNNABLE.
rule all:
    input:
        "first.txt",
        "second.txt",


rule fill:
    output:
        "{name}.txt",
    threads: config["vcpus"]
    shell:
        "sleep 6 && touch {output}"
