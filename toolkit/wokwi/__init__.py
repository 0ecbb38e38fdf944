"""Wokwi projects for a model: generate, validate, run (wokwi-cli or Wokwi's engines)."""
