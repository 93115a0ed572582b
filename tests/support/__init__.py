"""Helpers shared by test modules in different folders (not fakes: real code paths, test data)."""
