"""The DP0.1 catalogs (`dp01_dc2_catalogs`): schema from sdm_schemas, synthetic data, load, checksums."""
