"""The requester's pages: their ticket (``ticket_page``), in their language.

Texts live in this package's own catalog (``locale/``) and templates
(``templates/``), rendered through ``connectors.web.templating``.
"""
