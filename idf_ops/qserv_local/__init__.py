"""The MariaDB stand-in for Qserv's MySQL-protocol front end: schema, chunk ids, loader, health check."""
