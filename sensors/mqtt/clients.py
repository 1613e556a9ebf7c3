"""The MQTT identities that are not field devices (client id = username on a secured broker;
their rights are in deploy/mosquitto/acl)."""

from __future__ import annotations

SIMULATOR = "trafficsim-simulator"
"""Publishes the scenario metadata and the clock."""
SIMULATOR_INBOX = "trafficsim-simulator-in"
"""The simulator's subscribing client in a closed loop: commands and lock-step markers."""
PROBE_FLEET = "probe-fleet"
OPTIMIZER = "optimizer"
PREDICTOR = "predictor"
RECORDER = "recorder"
DASHBOARD = "dashboard"

SERVICE_CLIENTS = (
    SIMULATOR,
    SIMULATOR_INBOX,
    PROBE_FLEET,
    OPTIMIZER,
    PREDICTOR,
    RECORDER,
    DASHBOARD,
)
