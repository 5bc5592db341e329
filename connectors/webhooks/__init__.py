"""Outgoing webhooks: signed, Standard Webhooks style, and never into our own network."""
