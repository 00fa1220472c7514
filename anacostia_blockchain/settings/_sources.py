"""Where settings come from, in order of precedence, and the one-line errors when they are wrong.

1. explicit values (command-line options, keyword arguments);
2. the environment: ``ANACOSTIA_<NAME>`` (case-insensitive, empty means unset);
3. a ``.env`` file (the same ``ANACOSTIA_<NAME>=value`` lines; other variables in it are left alone);
4. a TOML file (``anacostia.toml``): the same names, lower-case, without the prefix (``session_ttl = 900``);
5. the defaults.

One namespace for everything: ``ANACOSTIA_RPC_URL`` and ``rpc_url`` in the TOML file mean the same to the service and
to the CLI. Unknown names are errors where they cannot belong to anyone else: any key of the TOML file, any
``ANACOSTIA_*`` line of the ``.env`` file, and a variable of the environment that is a near miss of a setting
(``ANACOSTIA_SESION_TTL``); the environment is shared with other programs, so other ``ANACOSTIA_*`` names there are
not ours to refuse. A bad value names where it came from and never shows the value itself (it may be a secret).
The sources are pydantic-settings': :class:`EnvSettingsSource`, :class:`DotEnvSettingsSource` and
:class:`TomlConfigSettingsSource`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pydantic
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from ..errors import ConfigurationError
from ._values import display_url

PREFIX = "ANACOSTIA_"
#: Names the TOML file to read (instead of ``./anacostia.toml``).
CONFIG_ENV = "ANACOSTIA_CONFIG"
DEFAULT_CONFIG_FILE = Path("anacostia.toml")
DEFAULT_ENV_FILE = Path(".env")
#: ``ANACOSTIA_*`` variables read straight from the environment by a library (not settings of a model):
#: the anvil and solc binaries the dev tools run, and the name of the TOML file itself.
ENVIRONMENT_ONLY = frozenset({"anvil", "solc", "config"})

S = TypeVar("S", bound="Settings")


class Settings(BaseSettings):
    """Base of the settings models. Building one directly uses only the values passed (nothing is read from the
    environment behind the caller's back); :func:`load` gathers them from the sources."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", frozen=True, env_ignore_empty=True)

    #: Fields holding URLs, shown as ``scheme://host:port`` in ``repr``.
    url_fields: ClassVar[frozenset[str]] = frozenset()
    #: Every concrete settings model; their fields together are the names a settings file may use.
    models: ClassVar[list[type[Settings]]] = []

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            Settings.models.append(cls)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, display_url(value) if name in self.url_fields and isinstance(value, str) else value


def known_names() -> frozenset[str]:
    """Every setting name (lower-case, without the prefix) of every settings model."""
    return frozenset(name for model in Settings.models for name in model.model_fields)


def env_name(field: str) -> str:
    return PREFIX + field.upper()


@dataclass(frozen=True)
class SettingsFiles:
    """The TOML and ``.env`` files to read (``None``: none)."""

    config_file: Path | None = None
    env_file: Path | None = None

    @classmethod
    def discover(
        cls, environ: Mapping[str, str] | None = None, *, config_file: Path | None = None, cwd: Path | None = None
    ) -> SettingsFiles:
        """``config_file``, else ``$ANACOSTIA_CONFIG`` (both must exist), else ``./anacostia.toml`` if present; and
        ``./.env`` if present."""
        env = os.environ if environ is None else environ
        here = Path.cwd() if cwd is None else cwd
        named = config_file or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
        if named is not None and not named.is_file():
            raise ConfigurationError(f"settings file {named} does not exist")
        default = here / DEFAULT_CONFIG_FILE
        dotenv = here / DEFAULT_ENV_FILE
        return cls(
            config_file=named or (default if default.is_file() else None),
            env_file=dotenv if dotenv.is_file() else None,
        )


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (the process environment by default)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _unknown(name: str, where: str, known: frozenset[str]) -> ConfigurationError:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigurationError(f"{where}: unknown setting {name!r}{hint}")


def _from_toml(model: type[Settings], path: Path, known: frozenset[str]) -> dict[str, tuple[Any, str]]:
    try:
        data = TomlConfigSettingsSource(model, toml_file=path).toml_data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read settings file {path}: {exc.strerror or exc}") from None
    for key in data:
        if key not in known:
            raise _unknown(key, str(path), known)
    return {key: (value, f"{key} in {path}") for key, value in data.items() if key in model.model_fields}


def _from_dotenv(model: type[Settings], path: Path, known: frozenset[str]) -> dict[str, tuple[Any, str]]:
    source = DotEnvSettingsSource(model, env_file=path)
    prefix = PREFIX.lower()
    for name in source.env_vars:
        if name.startswith(prefix) and name[len(prefix) :] not in known | ENVIRONMENT_ONLY:
            raise _unknown(name[len(prefix) :], str(path), known)
    data = _call(source, str(path))
    return {key: (value, f"{env_name(key)} in {path}") for key, value in data.items() if key in model.model_fields}


def _from_environ(model: type[Settings], environ: Mapping[str, str], known: frozenset[str]) -> dict[str, Any]:
    for name in environ:
        if name.upper().startswith(PREFIX):
            key = name[len(PREFIX) :].lower()
            if key not in known | ENVIRONMENT_ONLY and difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.85):
                raise _unknown(key, f"environment variable {name}", known)
    data = _call(_MappingEnvSource(model, environ), "the environment")
    return {key: (value, f"environment variable {env_name(key)}") for key, value in data.items()}


def _call(source: PydanticBaseSettingsSource, where: str) -> dict[str, Any]:
    try:
        return source()
    except SettingsError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def load(
    model: type[S],
    *,
    environ: Mapping[str, str] | None = None,
    files: SettingsFiles | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> S:
    """``model`` from the sources in the module docstring's order; ``overrides`` win (``None`` values are skipped)."""
    known = known_names()
    gathered: dict[str, tuple[Any, str]] = {}
    if files is not None and files.config_file is not None:
        gathered.update(_from_toml(model, files.config_file, known))
    if files is not None and files.env_file is not None:
        gathered.update(_from_dotenv(model, files.env_file, known))
    gathered.update(_from_environ(model, os.environ if environ is None else environ, known))
    gathered.update({key: (value, f"option {key}") for key, value in (overrides or {}).items() if value is not None})
    return build(model, gathered)


def build(model: type[S], gathered: Mapping[str, tuple[Any, str]]) -> S:
    """``model`` from ``{field: (value, where it came from)}``; a validation failure is one line naming the sources."""
    try:
        return model(**{key: value for key, (value, _) in gathered.items()})
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            where = gathered[field][1] if field in gathered else field
            if error["type"] == "extra_forbidden":
                problems.append(str(_unknown(field, where, known_names())))
            else:
                problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigurationError(f"bad setting: {'; '.join(problems)}") from None
