"""Load-test services of `idf loadtest`: profiles, targets, running Locust, reports, plots, GKE manifests."""
