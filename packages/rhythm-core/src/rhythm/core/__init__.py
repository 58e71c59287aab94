"""Rhythm's .flow language: parser, checker, compiler and snapshotting VM. Pure: no I/O."""
