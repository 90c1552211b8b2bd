"""The `kcr` command line."""
