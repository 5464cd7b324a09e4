rule all:
    input:
        "broken.txt",


rule broken:
    output:
        "broken.txt",
    shell:
        "echo 'about to fail' >&2; exit 3"
