"""The Gen3 Butler repository: its bootstrap (one implementation for the local role and the cloud Job)."""
