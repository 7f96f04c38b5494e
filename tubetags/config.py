"""One way for every job to get its parameters: a pydantic model per job.

Values come, later ones winning, from the model's defaults, the job's YAML file (`configs/<job>.yaml` if it
exists; a training run's is its strategy's `configs/strategies/<strategy>.yaml`; `--config PATH` instead, which
must exist) and the command line: one `--name VALUE` flag per field (also what MLproject passes). Everything
arrives as text and is parsed once, by pydantic: `--seeds 5` is an int, `--quick false` a bool, `--strategies a,b`
a list. A dict field (a strategy's hyper-parameters) takes repeated `--param KEY=VALUE`, each value read as YAML.
"""

from __future__ import annotations

import argparse
import shlex
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tubetags import settings

CONFIG_DIR = settings.REPO_ROOT / "configs"
STRATEGY_CONFIG_DIR = CONFIG_DIR / "strategies"  # one file per strategy: its hyper-parameters


class ConfigError(ValueError):
    """A job's configuration is invalid (the message says which field and why)."""


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """['epochs=3 dropout=0.2', 'encoder=minilm'] -> {'epochs': 3, 'dropout': 0.2, 'encoder': 'minilm'}.

    Values are read as YAML; one item may hold several space-separated assignments (as MLproject
    passes them), and blank items are ignored.
    """
    out: dict[str, Any] = {}
    for item in (part for entry in items for part in shlex.split(entry)):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _is_dict_field(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict or annotation is dict


def _is_list_field(annotation: Any) -> bool:
    return any(typing.get_origin(a) in (list, tuple) for a in (annotation, *typing.get_args(annotation)))


class JobConfig(BaseModel):
    """Base of every job's config: unknown keys are errors, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job: ClassVar[str]

    @classmethod
    def config_path(cls, values: Mapping[str, Any]) -> Path:  # noqa: ARG003 (train chooses by a value)
        """The YAML file this job reads (a job may choose it from a value, as train does by strategy)."""
        return CONFIG_DIR / f"{cls.job}.yaml"

    @classmethod
    def read_yaml(cls, path: Path, required: bool = False) -> dict[str, Any]:
        """The file's mapping; {} for a job's own default file that does not exist. A file someone named
        (`required`) must exist and be readable: running on the defaults instead would be a silent surprise."""
        if not required and not path.exists():
            return {}
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as error:
            raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError(f"config file {path} must hold a mapping of field: value, not {type(data).__name__}")
        return dict(data or {})

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, path: Path | None = None) -> Self:
        """Defaults < YAML file < overrides; dict-valued overrides are merged key by key.

        `path`: a YAML file that must exist; without it the job's default file is read if present."""
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        data = cls.read_yaml(path, required=True) if path is not None else cls.read_yaml(cls.config_path(overrides))
        for key, value in overrides.items():
            data[key] = {**(data.get(key) or {}), **value} if isinstance(value, Mapping) else value
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ConfigError(f"invalid {cls.job} config:\n{error}") from None

    @classmethod
    def from_cli(
        cls, argv: Sequence[str] | None = None, description: str | None = None, prog: str | None = None
    ) -> Self:
        """Parse `--field value` flags (one per field) into a validated config; exits (2) with a message if invalid."""
        parser = argparse.ArgumentParser(
            prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        default_file = cls.config_path({}).relative_to(settings.REPO_ROOT)
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help=f"YAML file of field: value (must exist; default: {default_file} if present)",
        )
        dict_fields = []
        for name, field in cls.model_fields.items():
            flag = "--" + name.replace("_", "-")
            default = "" if field.is_required() else f" (default: {field.get_default(call_default_factory=True)})"
            if _is_dict_field(field.annotation):
                dict_fields.append(name)
                parser.add_argument(
                    flag,
                    dest=name,
                    action="append",
                    metavar="KEY=VALUE",
                    help=f"{field.description or name}; repeatable",
                )
            elif _is_list_field(field.annotation):
                parser.add_argument(
                    flag,
                    dest=name,
                    nargs="*",
                    default=None,
                    help=f"{field.description or ''}, space- or comma-separated{default}",
                )
            else:
                parser.add_argument(flag, dest=name, default=None, help=f"{field.description or ''}{default}")
        args = vars(parser.parse_args(argv))
        path = args.pop("config")
        try:
            for name in dict_fields:
                args[name] = parse_assignments(args[name]) if args[name] else None
            return cls.load(args, path)
        except ConfigError as error:
            parser.error(str(error))
            raise  # unreachable: parser.error exits


def comma_list(value: Any) -> Any:
    """'a, b' or ['a,b', 'c'] -> ['a', 'b', 'c'] for list fields given on the command line; blanks dropped."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [item.strip() for v in value for item in v.split(",") if item.strip()]
    return value
