"""Settings: the schema, its loader and the shipped example configuration."""

from config.loader import EXAMPLE_PATH, ConfigError, load_settings, problems_of
from config.settings import Settings

__all__ = ["EXAMPLE_PATH", "ConfigError", "Settings", "load_settings", "problems_of"]
