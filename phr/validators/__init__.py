"""Validator operators: the clique signer set, who sealed recent blocks, and voting signers in and out."""
