"""Locust user classes: ``tap`` and ``qserv`` (low/high volume), ``notebook`` (Science Platform).

Deliberately empty of imports: importing Locust monkey-patches the process with gevent, so only the
locustfile (which runs inside Locust) imports the user modules; tests and the CLI import
``loadtests.users.votable`` and the models without pulling Locust in.
"""
