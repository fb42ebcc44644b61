"""Test stand-in: imported, unused, by the release's skill loader."""
