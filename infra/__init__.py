"""The IDF Pulumi program: typed stack configuration (`infra.config`), one ComponentResource per
concern (`infra.network`, `infra.gke`, `infra.node_pools`, `infra.cloudsql`, `infra.storage`,
`infra.iam`, `infra.dns`, `infra.budget`, `infra.kubernetes`), wired by `infra.program`.

`infra/__main__.py` is what `pulumi up -s <stack>` runs; `idf plan` runs `infra.program` under
Pulumi's mock engine.
"""
