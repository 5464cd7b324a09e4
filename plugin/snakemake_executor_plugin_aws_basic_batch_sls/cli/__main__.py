"""`python -m snakemake_executor_plugin_aws_basic_batch_sls.cli`"""

from . import main

raise SystemExit(main())
