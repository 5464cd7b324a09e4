# A rule asking for more vCPUs than the local Batch's compute environment holds (--vcpus, default: cores).
rule all:
    input:
        "big.txt",


rule big:
    output:
        "big.txt",
    threads: 64
    shell:
        "touch {output}"
