"""Field devices and the MQTT wire: detectors sampling the simulation, the signal bridge.

Empty for now: the sensors and the live MQTT feed are the next capability to be built (see
README, "Roadmap"). The package exists so that the layering contracts in pyproject.toml
already hold it to its place: it may import ``sim``, never ``models`` or ``runner``.
"""
