"""Helpers the tests and the benches share that are not part of the product."""
