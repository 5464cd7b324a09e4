rule all:
    input:
        expand("hang/{i}.txt", i=range(3)),


rule hang:
    output:
        "hang/{i}.txt",
    shell:
        "sleep 600; touch {output}"
