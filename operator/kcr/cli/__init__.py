"""The `kcr` command line."""

import kcr.kinds  # noqa: F401  (registers the built-in change kinds)
