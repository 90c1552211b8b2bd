"""Servers kcr runs on this machine by itself (``kcr demo``, ``kcr dev``, the tests)."""
