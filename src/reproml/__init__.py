"""reproml: the code every chapter of the reproducible-ML course shares.

Import from the modules (``reproml.training``, ``reproml.config``...): this package imports
nothing heavy itself, so entry points can check their input before torch is loaded.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reproml")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
