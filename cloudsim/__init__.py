"""cloudsim: a local emulator of the Alibaba Cloud APIs the portal uses (filled by Stage 1b)."""
