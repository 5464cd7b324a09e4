"""template.yaml as dicts: read with CloudFormation's short tags, and translated from SAM offline.

The local cloud deploys what this returns; tools.check_template lints it and the tests read it. It imports
nothing heavy at import time (aws-sam-translator is imported when translating).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = "template.yaml"
DUMMY_REGION = "us-east-1"
DUMMY_ACCOUNT = "123456789012"

# Values for the template's required parameters during offline translation.
DUMMY_PARAMETER_VALUES: dict[str, Any] = {
    "JobQueueArn": f"arn:aws:batch:{DUMMY_REGION}:{DUMMY_ACCOUNT}:job-queue/snakemake-queue",
    "JobDefinitionArn": f"arn:aws:batch:{DUMMY_REGION}:{DUMMY_ACCOUNT}:job-definition/snakemake-job",
}

# Dummy S3 locations for local code paths, so the translator needs no packaging step.
_DUMMY_URIS = {
    "AWS::Serverless::Function": ("CodeUri", "s3://check-template-dummy/function.zip"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "s3://check-template-dummy/layer.zip"),
}


class TemplateError(Exception):
    """The template cannot be read or translated; the message says what to fix."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (!Ref, !Sub, ...) without touching SafeLoader."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    if tag_suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # PyYAML has no other kind of node
        raise yaml.constructor.ConstructorError(
            None, None, f"!{tag_suffix} on a {type(node).__name__}", node.start_mark
        )
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: str | os.PathLike[str] = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """Read a CloudFormation/SAM YAML or JSON template into plain dicts (short tags expanded)."""
    text = Path(path).read_text(encoding="utf-8")
    template = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass: safe
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{path}: not a template (no Resources section)")
    return template


def _inline_local_artifacts(template: dict[str, Any], base_dir: Path) -> None:
    """Point CodeUri/ContentUri at dummy S3 URIs and inline DefinitionUri ASL as Definition."""
    for logical_id, resource in template["Resources"].items():
        props = resource.setdefault("Properties", {})
        rtype = resource.get("Type")
        if rtype in _DUMMY_URIS:
            key, uri = _DUMMY_URIS[rtype]
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = uri
        if rtype == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            asl_path = base_dir / props.pop("DefinitionUri")
            try:
                props["Definition"] = json.loads(asl_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise TemplateError(f"{logical_id}: cannot read DefinitionUri {asl_path}: {exc}") from exc
            # DefinitionSubstitutions stay as they are: SAM applies them to the inline Definition.


def translate_template(
    path: str | os.PathLike[str] = DEFAULT_TEMPLATE,
    parameter_values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Translate the SAM template at ``path`` to CloudFormation offline and return it as a dict.

    ``parameter_values`` override :data:`DUMMY_PARAMETER_VALUES`. A relative ``path`` is taken from the
    current directory, falling back to the repository root.
    """
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    template_path = Path(path)
    if not template_path.is_absolute() and not template_path.exists():
        template_path = REPO_ROOT / template_path
    sam_template = load_template(template_path)
    _inline_local_artifacts(sam_template, template_path.parent)
    values = {**DUMMY_PARAMETER_VALUES, "AWS::AccountId": DUMMY_ACCOUNT, **(parameter_values or {})}
    region = str(values.setdefault("AWS::Region", DUMMY_REGION))
    # Like samtranslator.translator.transform.transform, but with an explicit region (no AWS config
    # needed) and no managed-policy lookup in IAM. Translator sets a class-level region: restore it.
    saved_region = ArnGenerator.BOTO_SESSION_REGION_NAME
    try:
        to_py27_compatible_template(sam_template, values)
        translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
        translated = translator.translate(sam_template, values, get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        messages = "; ".join(getattr(cause, "message", str(cause)) for cause in exc.causes)
        raise TemplateError(f"SAM translation failed: {messages}") from exc
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = saved_region
    translated = undo_mark_unicode_str_in_template(translated)
    return translated
