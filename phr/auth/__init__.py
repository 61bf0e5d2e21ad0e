"""Accounts and key custody: the ``auth`` blueprint (views), its forms and service functions."""
