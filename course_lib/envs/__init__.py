"""Environments: toy tabular MDPs (chapter 3) and, later, gymnasium-registered tasks."""
