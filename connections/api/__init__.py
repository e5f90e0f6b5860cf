"""The REST API (v1): DRF views over the same services, policies and filtersets as the pages."""
