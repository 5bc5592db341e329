"""The desk's macros: those of ``[[macros]]`` (read-only) and those admins keep through the
staff API (in the store); a name is one macro, whichever side it is on."""

from __future__ import annotations

import logging

from config.macro_settings import MacroSettings
from router.errors import NotFound, PermanentError
from router.macros import MacroDefinition
from store.db import UnitOfWork
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def from_config(macro: MacroSettings) -> MacroDefinition:
    return MacroDefinition(
        name=macro.name,
        title=macro.title,
        body=macro.body,
        status=macro.status,
        priority=macro.priority,
        tags=macro.tags,
        team=macro.team,
        source="config",
    )


def all_macros(runtime: Runtime) -> list[MacroDefinition]:
    """The config's macros in their order, then the kept ones by name."""
    with runtime.db.unit_of_work() as uow:
        return macros_in(runtime, uow)


def macros_in(runtime: Runtime, uow: UnitOfWork) -> list[MacroDefinition]:
    """``all_macros``, read in the caller's unit of work."""
    return [from_config(m) for m in runtime.settings.macros] + uow.macros.all()


def macro_named(runtime: Runtime, name: str) -> MacroDefinition:
    for macro in runtime.settings.macros:
        if macro.name == name:
            return from_config(macro)
    with runtime.db.unit_of_work() as uow:
        found = uow.macros.named(name)
    if found is None:
        raise NotFound(f"no macro {name!r}")
    return found


def _check(runtime: Runtime, macro: MacroDefinition) -> None:
    if any(m.name == macro.name for m in runtime.settings.macros):
        raise PermanentError(f"macro {macro.name!r} is defined in the config: read-only here")
    if macro.team is not None and macro.team not in {t.name for t in runtime.settings.teams}:
        raise ValueError(f"team: no team named {macro.team!r}")


def create_macro(runtime: Runtime, macro: MacroDefinition, *, by: str) -> None:
    """Keep a new macro; ``PermanentError`` when its name is taken (the config's or a kept
    one), ``ValueError`` for a team that does not exist."""
    _check(runtime, macro)
    with runtime.db.unit_of_work() as uow:
        if uow.macros.named(macro.name) is not None:
            raise PermanentError(f"macro {macro.name!r} exists: change it with PUT")
        uow.macros.add(macro, by=by, now=runtime.now())
    log.info("macro %s made by %s", macro.name, by)


def replace_macro(runtime: Runtime, macro: MacroDefinition, *, by: str) -> None:
    """Write over a kept macro; ``NotFound`` for none, ``PermanentError`` for the config's."""
    _check(runtime, macro)
    with runtime.db.unit_of_work() as uow:
        if not uow.macros.replace(macro, now=runtime.now()):
            raise NotFound(f"no macro {macro.name!r}")
    log.info("macro %s changed by %s", macro.name, by)


def remove_macro(runtime: Runtime, name: str, *, by: str) -> None:
    if any(m.name == name for m in runtime.settings.macros):
        raise PermanentError(f"macro {name!r} is defined in the config: read-only here")
    with runtime.db.unit_of_work() as uow:
        if not uow.macros.remove(name):
            raise NotFound(f"no macro {name!r}")
    log.info("macro %s removed by %s", name, by)
