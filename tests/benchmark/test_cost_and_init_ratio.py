"""The benchmark's cost arithmetic (bench/cost.py) and its handler-init ratio verdicts (bench/imports.py)."""

from __future__ import annotations

import pytest

from bench import cost, prices
from bench.cost import cost_target
from bench.harness import RunResult
from bench.imports import bare_module, init_ratio_targets, ratio_verdicts, third_party
from bench.report import figures, render_markdown
from localcloud.dynamodb_meter import _index_writes, read_units, write_units

MEMORY = {"SubmitFunction": 512, "RecordFunction": 1024}


def _run(n: int = 1000, **overrides) -> RunResult:
    probe = {
        "rounds": [{"active": n, "start": 0, "end": 1, "calls": {"dynamodb.Query": 1}, "sends": {}}],
        "other": {"sqs.SendMessageBatch": n // 10, "sqs.GetQueueAttributes": 1, "s3.HeadObject": 7},
        "other_sends": {}, "submitted": {}, "noticed": {}, "first_call": {},
        "sqs_chunks": {"sqs.SendMessageBatch": n // 10, "sqs.GetQueueAttributes": 1},
    }  # fmt: skip
    lambda_delta = {
        "stack-SubmitFunction-abc": {
            "invocations": n // 10, "records": n, "billed_ms": 100 * n, "log_bytes": 200 * n,
            "worker_calls": {"sqs.ReceiveMessage": n // 10, "sqs.ReceiveMessage (empty)": 50,
                             "sqs.DeleteMessageBatch": n // 10},
        },
        "stack-RecordFunction-def": {
            "invocations": n // 20, "records": 4 * n, "billed_ms": 50 * n, "log_bytes": 100 * n,
            "worker_calls": {"sqs.ReceiveMessage": 4 * n // 10, "sqs.DeleteMessageBatch": 4 * n // 10},
        },
    }  # fmt: skip
    fields = {
        "plugin": "aws-basic-batch-sls", "n": n, "simulated": True, "returncode": 0, "wall_seconds": 60.0,
        "probe": probe, "terminal_at": {}, "created_at": {}, "lambda_delta": lambda_delta,
        "run_id": f"bench-sls-{n}-abcdef",
        "dynamodb_units": {"write_units": 9 * n, "writes": 3 * n, "failed_writes": 0,
                           "read_units": 0.5 * n, "reads": 100},
    }  # fmt: skip
    return RunResult(**{**fields, **overrides})


def _usd(row: dict, name: str) -> float:
    return next(i["usd"] for i in row["items"] if i["name"] == name)


def test_cost_per_1000_jobs_multiplies_counted_calls_by_list_prices() -> None:
    # GIVEN a 1,000-job run's counts WHEN it is costed
    row = cost.run_cost(_run(), MEMORY, transitions=4)
    # THEN each item is the count times its price: SQS, the plugin's 100 + 1 requests
    assert _usd(row, "SQS: the plugin's requests") == pytest.approx(101 * 0.40e-6)
    # AND EventBridge's deliveries into the events queue, one per event the record function received
    assert _usd(row, "SQS: EventBridge -> events queue") == pytest.approx(4000 * 0.40e-6)
    # AND the mappings' receives with messages and deletes, not the empty receives
    assert _usd(row, "SQS: event source mappings") == pytest.approx((100 + 100 + 400 + 400) * 0.40e-6)
    assert row["empty_receives"] == 50
    # AND Lambda: 150 invocations; 100 s at 0.5 GB + 50 s at 1 GB = 100 GB-s at the arm64 price
    assert _usd(row, "Lambda requests") == pytest.approx(150 * 0.20e-6)
    assert _usd(row, "Lambda duration (arm64)") == pytest.approx(100 * 0.0000133334)
    # AND DynamoDB's counted units at the on-demand prices
    assert _usd(row, "DynamoDB writes") == pytest.approx(9000 * 0.625e-6)
    assert _usd(row, "DynamoDB reads") == pytest.approx(500 * 0.125e-6)
    # AND Batch's state-change events cost nothing
    assert _usd(row, "EventBridge: Batch state changes") == 0
    # AND logs: the handlers' bytes plus the platform records per invocation, per GB
    logs = 300_000 + cost.PLATFORM_LOG_BYTES * 150
    assert _usd(row, "CloudWatch Logs ingestion") == pytest.approx(logs / 1e9 * 0.50)
    # AND one coordinator run of 4 transitions for the run's 1,000 jobs
    assert _usd(row, "Step Functions: coordinator run") == pytest.approx(4 * 0.025 / 1000)
    assert row["total"] == pytest.approx(sum(i["usd"] for i in row["items"]))
    assert row["ok"] is (row["total"] <= 0.05)


def test_cost_scales_to_1000_jobs_from_any_run_size() -> None:
    # GIVEN the same calls per job in a 100-job and a 1,000-job run THEN the cost per 1,000 is the same
    small, large = cost.run_cost(_run(100), MEMORY, 4), cost.run_cost(_run(1000), MEMORY, 4)
    for name in ("SQS: EventBridge -> events queue", "Lambda duration (arm64)", "DynamoDB writes"):
        assert _usd(small, name) == pytest.approx(_usd(large, name))
    # AND a run's coordinator cost is spread over its jobs: ten times more per job at 100 jobs
    assert _usd(small, "Step Functions: coordinator run") == pytest.approx(
        10 * _usd(large, "Step Functions: coordinator run")
    )


def test_the_target_line_is_judged_on_the_1000_job_simulated_run() -> None:
    # GIVEN runs of 100, 1,000 and 10,000 jobs (the last one with arrays) and the polling plugin's
    runs = [_run(100), _run(1000), _run(10000, run_id="array-sls-10000-abcdef"), _run(1000, plugin="x")]
    table = figures(runs, {"simulated": [(100, 1.0), (1000, 1.0)], "real": 0})
    # THEN the target line is the 1,000-job run's, and every run of this plugin has a row
    assert [row["label"] for row in table["cost"]] == ["1000 simulated", "100 simulated",
                                                       "10000 simulated with arrays"]  # fmt: skip
    line = cost_target(table)[0]
    assert "PASS" in line and "1000 simulated run" in line
    # AND the report renders the breakdown and the prices with their sources
    text = render_markdown(table, runs, {"simulated": [(100, 1.0), (1000, 1.0)], "real": 0}, smoke=False)
    assert "## Cost" in text and prices.DYNAMODB_WRITE_UNIT.source in text


def test_a_run_without_a_dynamodb_meter_fails_the_cost_target() -> None:
    table = figures([_run(dynamodb_units={})], {"simulated": [(1000, 1.0)], "real": 0})
    assert "FAIL" in cost_target(table)[0] and "not counted" in cost_target(table)[0]


def test_coordinator_transitions_follow_the_success_path(tmp_path) -> None:
    asl = tmp_path / "sm.json"
    asl.write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "B"}, "B": {"Type": "Task", '
        '"Next": "C", "Catch": [{"Next": "F"}]}, "C": {"Type": "Task", "End": true}, '
        '"F": {"Type": "Fail"}}}'
    )
    assert cost.success_transitions(asl) == 3
    # AND the template's functions have their memory sizes
    assert set(cost.function_memory()) >= {"SubmitFunction", "RecordFunction"}


def test_the_standing_cost_counts_every_sqs_event_source_of_the_template(template) -> None:
    mappings = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]

    assert cost.sqs_event_sources() == len(mappings) == 3  # jobs, state events, terminal events
    assert cost.standing_cost_per_day() == pytest.approx(1.5 * cost.standing_cost_per_day(queues=2))


def test_dynamodb_units_follow_item_sizes_and_index_changes() -> None:
    # writes: per started KB; reads: per started 4 KB, half when eventually consistent
    assert [write_units(s) for s in (1, 1024, 1025)] == [1, 1, 2]
    assert read_units(4096, consistent=False) == 0.5 and read_units(4097, consistent=True) == 2
    # an index key that changes is a delete and a put; entering an index one put; no change none
    assert _index_writes({"i": (("a",), 300)}, {"i": (("b",), 300)}) == 2
    assert _index_writes({}, {"i": (("a",), 300)}) == 1
    assert _index_writes({"i": (("a",), 300)}, {"i": (("a",), 300)}) == 0
    assert _index_writes({"i": (("a",), 300)}, {"i": (("a",), 400)}) == 1


def test_init_ratio_verdicts_per_handler() -> None:
    # GIVEN handler and bare medians WHEN judged at 1.3x THEN each handler has its own verdict
    verdicts = ratio_verdicts({"a": 0.26, "b": 0.40, "c": 0.3}, {"a": 0.2, "b": 0.2}, 1.3)
    assert verdicts == {"a": (pytest.approx(1.3), True), "b": (pytest.approx(2.0), False)}
    # AND the median of the per-pair ratios, when measured, is what is judged
    assert ratio_verdicts({"a": 0.26}, {"a": 0.2}, 1.3, {"a": 1.5}) == {"a": (1.5, False)}
    table = {
        "imports": {"a": 0.26, "b": 0.40},
        "import_bare": {"a": 0.2, "b": 0.2},
        "import_clients": {"a": [["dynamodb", {}]], "b": [["batch", {"retries": {"mode": "adaptive"}}]]},
    }
    lines = init_ratio_targets(table)
    assert lines[0].startswith("- **PASS** a handler init") and "boto3 + dynamodb" in lines[0]
    assert lines[1].startswith("- **FAIL** b handler init") and "batch (own Config)" in lines[1]
    # AND with a libraries twin measured, the line splits the ratio into libraries and own code
    table["import_libraries"] = {"b": 1.6}
    assert "libraries alone: 1.60x, so the project's own code adds +0.40x" in init_ratio_targets(table)[1]


def test_the_libraries_twin_imports_the_handlers_third_party_modules_only() -> None:
    loaded = ["json", "boto3", "botocore.client", "pydantic", "pydantic._internal._fields", "sls_contract",
              "sls_contract.spec", "app", "aws_lambda_powertools.logging", "_strptime", "urllib3", "zoneinfo"]  # fmt: skip
    assert third_party(loaded) == ["pydantic", "pydantic._internal._fields", "aws_lambda_powertools.logging"]
    source = bare_module([["dynamodb", {}]], third_party(loaded))
    assert "importlib.import_module('pydantic._internal._fields')" in source
    assert source.index("import_module('pydantic')") < source.index("boto3.client('dynamodb')")
    compile(source, "app.py", "exec")


def test_bare_module_creates_the_same_clients() -> None:
    source = bare_module([["batch", {"retries": {"mode": "adaptive"}}], ["dynamodb", {}]])
    assert "boto3.client('batch', config=Config(**{'retries': {'mode': 'adaptive'}}))" in source
    assert "boto3.client('dynamodb')," in source
    compile(source, "app.py", "exec")


def test_a_report_from_several_invocations_keeps_the_init_ratios_of_the_one_that_measured_them() -> None:
    # GIVEN a `--only 1000,real` invocation (handler init measured) rendered with a later `--only 10k`
    # one, whose results carry no init figures
    imports = {"submit": 0.26, "bare: submit": 0.2, "ratio: submit": 1.3, "bare clients: submit": []}
    measured, later = _run(imports=imports), _run(n=100)
    plan = {"simulated": [(100, 1.0), (1000, 1.0)], "real": 0}
    # WHEN the report is made, in either order
    for results in ([measured, later], [later, measured]):
        text = render_markdown(figures(results, plan), results, plan, smoke=False)
        # THEN the init target line is there, judged on the measured figures
        assert "- **PASS** submit handler init ÷ a bare handler" in text


def test_a_report_with_real_runs_but_no_init_figures_says_so() -> None:
    # GIVEN a table with a real run but no handler init figures WHEN judged THEN a FAIL line says so
    lines = init_ratio_targets({"real": {("aws-basic-batch-sls", 200): {}}, "imports": {}})
    assert lines == [
        "- **FAIL** handler init ratios: measured n/a (no handler init figures in these results)"
    ]
    # AND without a real run (a `--only 10k` report) there is nothing to judge
    assert init_ratio_targets({"real": {}, "imports": {}}) == []
