"""Every module of the project imported at once, so that what Hypothesis generates does not
depend on which of them earlier tests in the same process happened to import.

Hypothesis draws a few of its values from the literals of the local (not installed, not
test) modules loaded so far: it looks at ``sys.modules`` again before each example. With
``derandomize`` the same test then still sends other requests after other tests imported
more of the project (the staff fuzz's link sequences reached no organisation in the full
suite, though alone they did). Imported first, the pool is the whole project everywhere.
"""

from __future__ import annotations

import importlib
import pkgutil

PACKAGES = ("router", "store", "connectors", "workers", "config", "benchmarks")
# run, never imported: the command line's entry point, the migrations (Alembic loads them
# itself), and locust's users (locust patches the standard library for gevent on import)
NEVER_IMPORTED = ("workers.__main__", "store.migrations.", "benchmarks.web_load_users")


def import_project_modules() -> list[str]:
    """Import every module of the project's packages; the names, in order."""
    names = []
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, f"{package}."):
            if not info.name.startswith(NEVER_IMPORTED):
                names.append(info.name)
    for name in names:
        importlib.import_module(name)
    return names
