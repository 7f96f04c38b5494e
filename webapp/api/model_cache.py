"""Registry models loaded once per worker process and shared by alias.

Each gunicorn worker loads its own models (after fork: TensorFlow/PyTorch are not fork-safe).
An alias -> version lookup is trusted for TUBETAGS_ALIAS_TTL_S seconds, so moving
`production` to a new version is picked up without a restart; loaded versions are shared
between aliases (production is usually also some strategy's alias) and dropped once no
alias points at them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from api import prometheus
from api.errors import ApiError
from tubetags import registry
from tubetags.inputs import PastVideo

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger("api")

PRODUCTION = registry.PRODUCTION
# Aliases the API serves: production, one per strategy, and the open-vocabulary hybrid.
SERVED_ALIASES = registry.SERVED_ALIASES
ALIAS_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

HOW_TO_MAKE_ONE = (
    "Make one with `make demo` (a small model in minutes) or `make experiment && make compare` "
    "(trains every strategy and promotes the best to @production); the server picks it up "
    "within {ttl:g} s, no restart needed."
)


class ModelUnavailable(ApiError):
    """No model can answer (503)."""

    def __init__(self, message: str):
        super().__init__(503, message)


class UnknownAlias(ApiError):
    """The requested alias is not in the registry (404: no such model here; with the aliases that are)."""

    def __init__(self, message: str, available: list[str]):
        super().__init__(404, message, available=available)
        self.available = available


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    strategy: str
    run_id: str | None  # None for a version registered without a run
    served: registry.ServedModel  # loaded by registry.load_served_model, as the cost benchmark loads it

    def describe(self, alias: str) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "alias": alias, "strategy": self.strategy}

    def predict(
        self,
        transcript: str,
        k: int,
        title: str | None = None,
        description: str | None = None,
        channel_history: Sequence[PastVideo] = (),
    ) -> list[tuple[str, float, str]]:
        """Ranked (tag, score, source) for one transcript."""
        return self.served.predict_with_sources([transcript], k, title, description, channel_history)[0]

    def oov_share(self, transcript: str) -> float | None:
        return self.served.oov_share(transcript)


class ModelCache:
    def __init__(self, name: str, ttl_s: float):
        from tubetags import tracking

        self.name, self.ttl_s = name, ttl_s
        self.uri = tracking.configure()  # tracking + registry URI (MLFLOW_TRACKING_URI overrides)
        self._lock = threading.RLock()  # one load at a time; gthread workers may share the cache
        self._aliases: dict[str, str] = {}
        self._aliases_at = float("-inf")
        self._models: dict[str, LoadedModel] = {}  # by version
        self._strategies: dict[str, str] = {}  # version -> strategy tag, for the catalogue

    def _client(self) -> MlflowClient:
        import mlflow

        return mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def aliases(self) -> dict[str, str]:
        """Served aliases present in the registry -> version (re-read after the TTL)."""
        from mlflow.exceptions import MlflowException

        with self._lock:
            if time.monotonic() - self._aliases_at < self.ttl_s:
                return dict(self._aliases)
            try:
                registered = self._client().get_registered_model(self.name).aliases
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise ModelUnavailable(f"Model registry at {self.uri} is unavailable: {exc.message}") from exc
                registered = {}
            self._aliases = {a: str(v) for a, v in registered.items() if a in SERVED_ALIASES}
            self._aliases_at = time.monotonic()
            in_use = set(self._aliases.values())
            for version in [v for v in self._models if v not in in_use]:
                log.info("dropping %s version %s: no served alias points at it any more", self.name, version)
                del self._models[version]
            return dict(self._aliases)

    def catalogue(self) -> list[dict[str, str]]:
        """Served aliases with version and strategy, production first, without loading any model."""
        aliases = self.aliases()
        with self._lock:
            for version in set(aliases.values()) - set(self._strategies):
                try:
                    details = self._client().get_model_version(self.name, version)
                except Exception as exc:  # registry gone or version deleted since the alias lookup
                    raise ModelUnavailable(f"Model registry at {self.uri} is unavailable: {exc}") from exc
                self._strategies[version] = details.tags.get("strategy", "unknown")
            order = sorted(aliases, key=lambda a: (a != PRODUCTION, a))
            return [
                {"name": self.name, "version": aliases[a], "alias": a, "strategy": self._strategies[aliases[a]]}
                for a in order
            ]

    def no_production_message(self) -> str:
        return (
            f"No production model: the registry at {self.uri} has no `{self.name}@{PRODUCTION}`. "
            + HOW_TO_MAKE_ONE.format(ttl=self.ttl_s)
        )

    def get(self, alias: str = PRODUCTION) -> LoadedModel:
        with self._lock:
            aliases = self.aliases()
            if alias not in aliases:
                if alias == PRODUCTION:
                    raise ModelUnavailable(self.no_production_message())
                available = sorted(aliases)
                raise UnknownAlias(
                    f"Unknown model alias {alias!r}; available: {', '.join(available) or 'none'}.", available
                )
            version = aliases[alias]
            if version not in self._models:
                self._models[version] = self._load(version)
            model = self._models[version]
        prometheus.observe_model(model.describe(alias))
        return model

    def _load(self, version: str) -> LoadedModel:
        started = time.perf_counter()
        try:
            details = self._client().get_model_version(self.name, version)
            served = registry.load_served_model(registry.version_uri(version))
        except Exception as exc:  # a broken artifact or a missing strategy dependency
            log.exception("loading %s version %s failed", self.name, version)
            raise ModelUnavailable(f"Could not load {self.name} version {version}: {exc}") from exc
        log.info("loaded %s version %s in %.1f s", self.name, version, time.perf_counter() - started)
        return LoadedModel(self.name, version, details.tags.get("strategy", "unknown"), details.run_id, served)


_caches: dict[tuple[str, str], ModelCache] = {}
_caches_lock = threading.Lock()


def get_cache() -> ModelCache:
    """This process's cache for the configured tracking URI and registered model name."""
    from tubetags import settings as tubetags_settings

    key = (tubetags_settings.tracking_uri(), registry.registered_model())
    with _caches_lock:
        if key not in _caches:
            _caches[key] = ModelCache(registry.registered_model(), settings.TUBETAGS_ALIAS_TTL_S)
        return _caches[key]


def reset() -> None:
    """Forget every loaded model (tests)."""
    with _caches_lock:
        _caches.clear()
