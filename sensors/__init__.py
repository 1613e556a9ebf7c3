"""Field devices and the MQTT wire.

- ``sensors.devices``: inductive loops, cameras and probe vehicles sampling the simulated city
  through ``sim``'s read-only observation hooks, with their own errors and faults;
- ``sensors.deployment``: which devices stand where (the scenario's ``[sensors]`` table);
- ``sensors.field``: all devices of a run, polled at their periods;
- ``sensors.readings``: what devices report, in SI units, independent of any wire format;
- ``sensors.mqtt``: topics, payloads (FIWARE TrafficFlowObserved), paho-mqtt clients and the
  embedded broker; it imports nothing from ``sim``.

Importing this package loads nothing else, so ``import sensors.mqtt`` never loads the sim.
"""
