"""Clients of the external systems the tools talk to, one module each (hub, TAP, PostgreSQL, Qserv,
secrets) and the health probes built on them. Imports only ``idf_core`` and third-party libraries;
``idf_ops`` and ``loadtests`` use it, the Pulumi program never does."""
