"""The local IDF stack: Ansible runs, service health checks, the Butler repository builder."""
