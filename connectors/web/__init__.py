"""The web channel: the JSON intake API and the plain HTML form."""
