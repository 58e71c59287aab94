"""Rhythm's language server for .flow files."""
