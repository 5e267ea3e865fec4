"""Operator tooling for the Interim Data Facility (IDF): the `idf` command line and its services."""

__all__ = ["__version__"]

__version__ = "0.1.0"
