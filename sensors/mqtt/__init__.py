"""The MQTT wire: topic tree, payloads, paho-mqtt clients and the embedded broker.

Imports nothing from ``sim`` or ``models`` (a layering contract checks it): anything that
speaks MQTT can be reused by the centre and by external tools without the simulation.
"""
