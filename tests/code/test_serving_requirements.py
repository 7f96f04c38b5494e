"""The registered model's environment (requirements/serving.txt): covers what a loaded predictor imports,
pins exactly what the lock pins, and leaves the dev tools out."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.lock import SERVING_TXT, serving_pins
from tubetags import registry, settings

ROOT = settings.REPO_ROOT
LOCAL_PACKAGES = {"tubetags", "data_contracts", "pipelines", "experiments", "scripts", "webapp"}
# What the pyfunc wrapper loads: registry.py, and through load_predictor any strategy module.
ENTRY_MODULES = [
    "tubetags.registry",
    *sorted(f"tubetags.strategies.{p.stem}" for p in (ROOT / "tubetags" / "strategies").glob("*.py")),
]


def _source(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, lazy imports inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def served_modules_and_imports() -> tuple[set[str], set[str]]:
    """(local modules a loaded predictor can import, top-level third-party names they import)."""
    seen: set[str] = set()
    third_party: set[str] = set()
    todo = list(ENTRY_MODULES)
    while todo:
        module = todo.pop()
        if module in seen or _source(module) is None:
            continue
        seen.add(module)
        for name in _imports(_source(module)):
            top = name.split(".")[0]
            if top in LOCAL_PACKAGES:
                todo.append(name)  # `from pkg import function` adds a name that is not a module: skipped
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return seen, third_party


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {canonicalize_name(Requirement(line).name): line for line in lines if line}


def test_the_walk_reaches_the_modules_a_predictor_loads():
    modules, _ = served_modules_and_imports()
    assert {
        "tubetags.predictor",
        "tubetags.encoders",
        "tubetags.openvocab.keyphrases",
        "tubetags.text",
        "tubetags.tags",
        "tubetags.corpus",
        "tubetags.strategies.ranking",
        "data_contracts.video_record",
    } <= modules


def test_every_third_party_import_is_in_serving_requirements():
    _, imports = served_modules_and_imports()
    assert {"mlflow", "numpy", "sklearn", "tensorflow", "keras", "sentence_transformers", "py3langid"} <= imports
    distributions = importlib.metadata.packages_distributions()
    serving = _pins(SERVING_TXT)
    missing = {
        name: distributions.get(name)
        for name in imports
        if not any(canonicalize_name(d) in serving for d in distributions.get(name, []))
    }
    assert missing == {}


def test_serving_pins_are_the_lock_pins():
    lock = _pins(ROOT / "requirements" / "lock.txt")
    serving = _pins(SERVING_TXT)
    assert {name: pin for name, pin in serving.items() if lock.get(name) != pin} == {}


def test_serving_requirements_are_closed_and_up_to_date():
    """Every dependency of a listed distribution is listed too (so the model's environment is the tested one):
    the file is what scripts/lock.py writes from requirements/serving.in and the lock."""
    lock_lines = [line for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines() if line.strip()]
    assert list(_pins(SERVING_TXT).values()) == serving_pins(lock_lines)


def test_dev_tools_stay_out_of_the_model_environment():
    serving = _pins(SERVING_TXT)
    for dev_only in (
        "django",
        "djangorestframework",
        "pytest",
        "playwright",
        "openai-whisper",
        "yt-dlp",
        "google-api-python-client",
    ):
        assert dev_only not in serving


def test_the_registry_logs_serving_requirements():
    assert SERVING_TXT in vars(registry).values()
