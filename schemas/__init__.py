"""Avro schemas (.avsc): the contract with every subscriber, one folder per domain."""
