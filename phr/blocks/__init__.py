"""Blocks explorer: recent blocks, one block's paper fields and anchored records, the chain diagram."""
