"""DS Export: save images losslessly with their prompt and parameters embedded.

Library use::

    from dsexport import save_image, read_metadata
    result = save_image("cat.png", {"prompt": "a cat in a red scarf", "seed": 42})
    print(result.path, read_metadata(result.path).prompt)

The names below are loaded on first use so that ``import dsexport`` stays cheap (the native host
pays its start-up time on every browser call).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs a fifth of the native host's start-up
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Metadata",
    "SaveOptions",
    "SaveResult",
    "__version__",
    "convert_file",
    "embed_file",
    "inspect",
    "read_metadata",
    "save_image",
]

_LAZY = {
    "save_image": "dsexport.pipeline",
    "embed_file": "dsexport.pipeline",
    "convert_file": "dsexport.pipeline",
    "read_metadata": "dsexport.pipeline",
    "inspect": "dsexport.pipeline",
    "Metadata": "dsexport.model",
    "SaveOptions": "dsexport.model",
    "SaveResult": "dsexport.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'dsexport' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
