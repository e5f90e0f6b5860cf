"""cloudsim: a local emulator of the Alibaba Cloud APIs the portal uses (see cloudsim/README.md).

`python -m cloudsim serve` runs it; `cloudsim.server.CloudSim` runs it in-process for tests.
"""
