"""Field devices and the MQTT wire.

- ``sensors.devices``: inductive loops, cameras and probe vehicles sampling the simulated city
  through ``sim``'s read-only observation hooks, with their own errors and faults;
- ``sensors.deployment_spec``: the scenario's ``[sensors]`` table, parsed, and the variants a
  run derives from it (the closed loop's periods, the report's coverage and fault cases);
- ``sensors.deployment``: which devices stand where, built from that spec and the network;
- ``sensors.field``: all devices of a run, polled at their periods;
- ``sensors.readings``: what devices report, in SI units, independent of any wire format;
- ``sensors.mqtt``: topics, payloads (FIWARE TrafficFlowObserved), paho-mqtt clients and the
  embedded broker; it imports nothing from ``sim``.

Importing this package loads nothing else, so ``import sensors.mqtt`` never loads the sim.
"""
