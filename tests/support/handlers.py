"""Loading the real Lambda handler modules (functions/<name>/app.py) the way Lambda does: fresh."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def load_handler(function_dir: str) -> ModuleType:
    """Import functions/<dir>/app.py under a unique module name. Its module-level clients bind to
    whatever mock is active, so call this inside mock_aws (a new cold start each time)."""
    directory = REPO_ROOT / "functions" / function_dir
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    name = f"{function_dir}_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, directory / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload_handler(module: ModuleType) -> None:
    sys.modules.pop(module.__name__, None)
