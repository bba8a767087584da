"""The library: credentials and presentations signed, secured and verified.

Layers, each importing only the ones below it (see ARCHITECTURE.md; pyproject.toml's import
contracts enforce them): ``verification`` (the one pipeline) > ``securing`` (one module per
securing mechanism, over the cryptosuites and the JWS) > ``checks`` (what does not depend on
the mechanism) > ``retrieval`` (HTTPS, DIDs, status lists) > the primitives in this folder.
"""
