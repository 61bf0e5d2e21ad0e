"""Records: upload → encrypt → store → anchor → view with on-chain verification → export."""
