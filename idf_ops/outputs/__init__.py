"""Stack outputs: pull a live stack's outputs into var/stacks/<stack>/outputs.json."""
