"""Tests of the customer-intelligence assets, checks and the web application's role (retail_platform/defs/predictions/, retail_platform/warehouse/roles.py)."""
