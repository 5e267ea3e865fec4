"""The notebook hub of the local stack (JupyterHub stand-in for Nublado): API client and health check."""
