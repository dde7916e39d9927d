"""Modelyard: an open-source model registry."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> object:
    # The SDK is imported lazily so that `import modelyard` stays light for the server.
    if name == "Client":
        from modelyard.client import Client

        return Client
    raise AttributeError(name)
