"""Which answer a client wants from one link: the page for a browser, JSON for a program."""

from __future__ import annotations


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in accept.split(",")[:32]:
        kind, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if kind:
            weights.setdefault(kind.lower(), weight)
    return weights


def wants_html(accept: str) -> bool:
    """Whether an Accept header asks for HTML before JSON: a browser names text/html
    first (``text/html,...,*/*;q=0.8``); curl's ``*/*``, a program's
    ``application/json`` or no header at all get JSON, as the API always answered."""
    weights = _weights(accept)
    html = weights.get("text/html", 0.0)
    json = weights.get("application/json", weights.get("application/*", weights.get("*/*", 0.0)))
    return html > 0 and html > json
