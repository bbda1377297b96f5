"""Tests of kpwidgets.linalg."""
