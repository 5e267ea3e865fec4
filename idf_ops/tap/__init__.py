"""TAP service of the local stack: the DaCHS resource descriptor generator, health check, benchmark."""
