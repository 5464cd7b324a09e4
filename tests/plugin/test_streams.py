"""Which outputs the plugin refuses as pipes in storage (tests/e2e/test_streams.py runs it in Snakemake)."""

from types import SimpleNamespace

from snakemake.io import flag, local, pipe, temp

from snakemake_executor_plugin_aws_basic_batch_sls.streams import job_rules, stream_problems

PREFIX = "s3://bucket/run-1"


def _stored(path: str, *flags):
    """An output as Snakemake's default storage leaves it: flagged with its storage object."""
    item = path
    for wrap in flags:
        item = wrap(item)
    return flag(item, "storage_object", SimpleNamespace(query=f"{PREFIX}/{path}"))


def _rule(name: str, *outputs):
    return SimpleNamespace(name=name, output=list(outputs))


def test_a_pipe_in_storage_is_named_with_the_path_the_snakefile_wrote():
    rules = [_rule("b", _stored("x/{s}.fifo", pipe)), _rule("a", _stored("plain.txt"), _stored("t", temp))]
    [problem] = stream_problems(rules, PREFIX)
    assert problem.startswith("rule b: output pipe('x/{s}.fifo') would hang its Batch job")
    assert "temp('x/{s}.fifo', group_jobs=True)" in problem


def test_a_local_pipe_is_not_in_storage_and_passes():
    assert stream_problems([_rule("a", pipe(local("x.fifo")))], PREFIX) == []


def test_every_rule_of_a_group_job_is_checked():
    first, second = _rule("first"), _rule("second")
    group = SimpleNamespace(
        is_group=lambda: True, jobs=[SimpleNamespace(rule=first), SimpleNamespace(rule=second)]
    )
    single = SimpleNamespace(is_group=lambda: False, rule=first)
    assert job_rules(group) == [first, second]
    assert job_rules(single) == [first]
