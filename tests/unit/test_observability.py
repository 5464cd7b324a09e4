"""Alarms, dashboard, metrics, logs and tracing: what template.yaml watches is what the handlers emit."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sls_contract import metric_names
from sls_contract.recorder import Recorded
from sls_contract.run_record import RUN_TERMINAL
from sls_contract.status import TERMINAL
from sls_contract.submitter import Outcome
from tests.support.cloud import properties, resource
from tests.support.handlers import REPO_ROOT

HANDLERS = sorted((REPO_ROOT / "functions").glob("*/app.py"))


QUEUES_WITH_AGE_ALARMS = ("JobsQueue", "StateEventsQueue", "TerminalEventsQueue")


STACK = {"Ref": "AWS::StackName"}


# --- what the handlers emit ---


def _metric_names_used(source: str) -> set[str]:
    """The sls_contract.metric_names attributes a handler module reads."""
    tree = ast.parse(source)
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "metric_names"
    }


def _add_metric_names(source: str) -> Iterator[ast.expr]:
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_metric"
        ):
            yield next(k.value for k in node.keywords if k.arg == "name")


def emitted_by_handlers() -> set[str]:
    names: set[str] = set()
    for path in HANDLERS:
        for attribute in _metric_names_used(path.read_text(encoding="utf-8")):
            value = getattr(metric_names, attribute)
            if isinstance(value, dict):
                names |= set(value.values())
            elif attribute != "STACK_DIMENSION":
                names.add(value)
    return names


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_handlers_name_their_metrics_only_from_the_contract(path: Any) -> None:
    # A literal or f-string name could drift from the alarms without any test noticing.
    names = list(_add_metric_names(path.read_text(encoding="utf-8")))

    assert names, f"{path.parent.name} emits no metric"
    for name in names:
        assert not isinstance(name, ast.Constant | ast.JoinedStr), ast.unparse(name)
        assert "metric_names." in ast.unparse(name) or isinstance(name, ast.Name), ast.unparse(name)


def test_every_declared_metric_is_emitted_by_some_handler() -> None:
    assert emitted_by_handlers() == metric_names.emitted()


def test_every_outcome_and_final_status_has_its_metric() -> None:
    assert set(metric_names.SPEC_OUTCOMES) == {o.value for o in Outcome}
    assert set(metric_names.EVENT_OUTCOMES) == {o.value for o in Recorded}
    assert set(metric_names.JOBS_FINISHED) == {s.value for s in TERMINAL}
    assert set(metric_names.RUN_FINISHED) == {s.value for s in RUN_TERMINAL}


def test_metric_names_are_valid_cloudwatch_names() -> None:
    for name in metric_names.emitted():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,254}", name), name


# --- the template: namespace, dimensions, alarms, dashboard ---


def find_in_map(template: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::FindInMap"}:
        mapping, top, second = value["Fn::FindInMap"]
        return template["Mappings"][mapping][top][second]
    return value


def powertools(template: dict[str, Any]) -> tuple[str, str]:
    """(namespace, service) every function's Powertools Metrics uses, from its environment."""
    found = set()
    for logical_id, res in template["Resources"].items():
        if res["Type"] == "AWS::Lambda::Function":
            env = properties(template, logical_id)["Environment"]["Variables"]
            found.add(
                (
                    find_in_map(template, env["POWERTOOLS_METRICS_NAMESPACE"]),
                    find_in_map(template, env["POWERTOOLS_SERVICE_NAME"]),
                )
            )
    [pair] = found
    return pair


def custom_dimensions(template: dict[str, Any]) -> list[dict[str, Any]]:
    _namespace, service = powertools(template)
    return [{"Name": "service", "Value": service}, {"Name": metric_names.STACK_DIMENSION, "Value": STACK}]


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def alarm_metrics(template: dict[str, Any], props: dict[str, Any]) -> Iterator[tuple[str, str, list[Any]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, metric math included."""
    if "MetricName" in props:
        yield find_in_map(template, props["Namespace"]), props["MetricName"], props["Dimensions"]
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = [{**d, "Value": find_in_map(template, d["Value"])} for d in metric["Dimensions"]]
            yield find_in_map(template, metric["Namespace"]), metric["MetricName"], dimensions


def test_powertools_namespace_and_service_are_the_mappings(template: dict[str, Any]) -> None:
    assert powertools(template) == ("AwsBasicBatchSls", "aws-basic-batch-sls")


def test_every_alarm_watches_an_emitted_metric_or_an_aws_one(template: dict[str, Any]) -> None:
    namespace, _service = powertools(template)
    emitted = emitted_by_handlers()

    for logical_id, props in alarms(template).items():
        watched = list(alarm_metrics(template, props))
        assert watched, logical_id
        for metric_namespace, name, dimensions in watched:
            if metric_namespace == namespace:
                assert name in emitted, (logical_id, name)
                assert dimensions == custom_dimensions(template), logical_id
            else:
                assert metric_namespace.startswith("AWS/"), (logical_id, metric_namespace)


def _alarm_on(template: dict[str, Any], namespace: str, metric: str, dimension: dict[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id, props in alarms(template).items()
        for ns, name, dimensions in alarm_metrics(template, props)
        if (ns, name) == (namespace, metric) and dimension in dimensions
    ]


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Every queue something sends its failures to: queues' redrive targets and functions' DLQs."""
    resources = template["Resources"]
    redrive = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    }
    function_dlqs = {
        r["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and "DeadLetterConfig" in r["Properties"]
    }
    return redrive | function_dlqs


def test_every_dead_letter_queue_is_known(template: dict[str, Any]) -> None:
    assert dead_letter_queues(template) == {
        "JobsDeadLetterQueue",
        "StateEventsDeadLetterQueue",
        "RunLifecycleDeadLetterQueue",
        "RunTriggersDeadLetterQueue",
    }


def test_any_message_in_any_dead_letter_queue_raises_an_alarm(template: dict[str, Any]) -> None:
    for queue in dead_letter_queues(template):
        dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        [alarm] = _alarm_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", dimension)
        props = alarms(template)[alarm]
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")


@pytest.mark.parametrize("queue", QUEUES_WITH_AGE_ALARMS)
def test_an_old_message_on_a_work_queue_raises_an_alarm(template: dict[str, Any], queue: str) -> None:
    dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    [alarm] = _alarm_on(template, "AWS/SQS", "ApproximateAgeOfOldestMessage", dimension)

    assert alarms(template)[alarm]["Threshold"] == {"Ref": "OldestMessageAlarmSeconds"}


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_error_and_throttle_alarms(template: dict[str, Any], metric: str) -> None:
    functions = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]

    assert len(functions) == 5
    for function in functions:
        dimension = {"Name": "FunctionName", "Value": {"Ref": function}}
        assert len(_alarm_on(template, "AWS/Lambda", metric, dimension)) == 1, function


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut"])
def test_failed_and_timed_out_runs_raise_alarms(template: dict[str, Any], metric: str) -> None:
    dimension = {"Name": "StateMachineArn", "Value": {"Ref": "CoordinatorStateMachine"}}

    assert len(_alarm_on(template, "AWS/States", metric, dimension)) == 1


def test_a_sweep_that_finds_lost_events_raises_an_alarm(template: dict[str, Any]) -> None:
    namespace, service = powertools(template)
    service_dimension = {"Name": "service", "Value": service}
    [reconciled] = _alarm_on(template, namespace, metric_names.JOBS_RECONCILED, service_dimension)
    [lost] = _alarm_on(template, namespace, metric_names.JOBS_LOST, service_dimension)

    assert reconciled == lost
    props = alarms(template)[reconciled]
    [expression] = [q for q in props["Metrics"] if q.get("ReturnData", True)]
    assert expression["Expression"] == "reconciled + lost"
    assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_every_alarm_notifies_the_topic_only_when_one_is_given(template: dict[str, Any]) -> None:
    when_given = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}

    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert len(alarms(template)) == 20
    for logical_id, props in alarms(template).items():
        assert props["AlarmActions"] == props["OKActions"] == when_given, logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
        assert props["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-"), logical_id


def dashboard_metrics(template: dict[str, Any]) -> list[list[Any]]:
    body, variables = properties(template, "Dashboard")["DashboardBody"]["Fn::Sub"]
    values = {name: find_in_map(template, value) for name, value in variables.items()}
    # Every other ${...} is a stack value (names, ARNs): a placeholder keeps the JSON parseable.
    text = re.sub(r"\$\{([^}]+)\}", lambda m: str(values.get(m.group(1), f"<{m.group(1)}>")), body)
    widgets = json.loads(text)["widgets"]
    return [metric for widget in widgets for metric in widget["properties"]["metrics"]]


def test_every_dashboard_metric_is_emitted_or_an_aws_one(template: dict[str, Any]) -> None:
    namespace, service = powertools(template)
    emitted = emitted_by_handlers()

    for metric in dashboard_metrics(template):
        metric_namespace, name, *dimensions, _options = metric
        if metric_namespace == namespace:
            assert name in emitted, name
            assert dimensions == ["service", service, metric_names.STACK_DIMENSION, "<AWS::StackName>"]
        else:
            assert metric_namespace.startswith("AWS/"), metric_namespace


def test_the_dashboard_shows_what_an_operator_asks_first(template: dict[str, Any]) -> None:
    shown = {(m[0], m[1], *m[2:-1]) for m in dashboard_metrics(template)}
    names = {m[1] for m in shown}
    namespace, _service = powertools(template)

    # jobs submitted and finished, submit latency, event-to-record lag, runs by outcome
    assert {
        metric_names.SPEC_OUTCOMES["SUBMITTED"],
        *metric_names.JOBS_FINISHED.values(),
        metric_names.SUBMIT_LATENCY,
        metric_names.EVENT_TO_RECORD_LAG,
        metric_names.RUN_STARTED,
        *metric_names.RUN_FINISHED.values(),
    } <= names
    for queue in (*QUEUES_WITH_AGE_ALARMS, *dead_letter_queues(template)):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"<{queue}.QueueName>") in shown
    for function in ("SubmitFunction", "RecordFunction", "StartRunFunction", "RunLifecycleFunction"):
        assert ("AWS/Lambda", "Errors", "FunctionName", f"<{function}>") in shown
    assert ("AWS/Lambda", "Errors", "FunctionName", "<ReconcileFunction>") in shown
    assert all(m[0] in (namespace, "AWS/SQS", "AWS/Lambda", "AWS/States") for m in shown)


def test_the_dashboard_is_an_output(template: dict[str, Any]) -> None:
    assert template["Outputs"]["DashboardName"]["Value"] == {"Ref": "Dashboard"}
    assert resource(template, "Dashboard")["Type"] == "AWS::CloudWatch::Dashboard"


# --- logs and tracing ---


def test_the_state_machine_logs_errors_without_execution_data(template: dict[str, Any]) -> None:
    logging = properties(template, "CoordinatorStateMachine")["LoggingConfiguration"]

    assert logging["Level"] in ("ERROR", "ALL")
    assert logging["IncludeExecutionData"] is False
    [destination] = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert properties(template, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert properties(template, group)["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")


def test_no_function_is_traced_without_a_tracer(template: dict[str, Any]) -> None:
    # Tracing was turned off for the functions (docs/operating.md, "Tracing"): Lambda would record
    # only its own segment. Turning it on again means adding a Tracer to the handlers, too.
    tracer = {path.parent.name for path in HANDLERS if "Tracer(" in path.read_text(encoding="utf-8")}
    for logical_id, res in template["Resources"].items():
        if res["Type"] == "AWS::Lambda::Function":
            traced = res["Properties"].get("TracingConfig", {}).get("Mode") == "Active"
            assert not traced or tracer == {p.parent.name for p in HANDLERS}, logical_id


def test_no_role_may_write_traces_nobody_sends(template: dict[str, Any]) -> None:
    for logical_id, res in template["Resources"].items():
        if res["Type"] == "AWS::IAM::Role" and logical_id != "CoordinatorStateMachineRole":
            assert "Xray" not in json.dumps(res["Properties"].get("ManagedPolicyArns", [])), logical_id


# --- docs/operating.md cannot drift from the template ---

OPERATING = REPO_ROOT / "docs" / "operating.md"


def test_the_operating_guide_explains_every_alarm(template: dict[str, Any]) -> None:
    text = OPERATING.read_text(encoding="utf-8")

    for logical_id, props in alarms(template).items():
        suffix = props["AlarmName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
        explained = f"`{suffix}`" in text or (
            suffix.endswith("-function-throttles") and "`*-function-throttles`" in text
        )
        assert explained, (logical_id, suffix)
    assert f"The stack creates {len(alarms(template))} CloudWatch alarms" in text


def test_the_operating_guide_names_only_real_outputs_parameters_and_resources(
    template: dict[str, Any],
) -> None:
    text = OPERATING.read_text(encoding="utf-8")
    outputs = set(re.findall(r"output `(\w+)`", text)) | set(re.findall(r"OutputKey=='(\w+)'", text))
    resources = set(re.findall(r"--logical-resource-id (\w+)", text))
    parameters = set(re.findall(r"`(\w+)` parameter", text)) | set(
        re.findall(r"parameter-overrides (\w+)=", text)
    )

    assert outputs and resources and parameters
    assert outputs <= set(template["Outputs"])
    assert resources <= set(template["Resources"])
    assert parameters <= set(template["Parameters"])
