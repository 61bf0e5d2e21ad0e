"""Sharing: grants and revocations on chain, key re-wrapping, privacy tags, doctors' access, the access log."""
