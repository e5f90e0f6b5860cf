"""The portal's domain: services, access requests, their workflows and the cloud adapter."""
