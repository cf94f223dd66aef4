"""The carrier sandbox: an HTTP service that plays carriers' return APIs (Sandbox Post, Relay
Express, or whatever a carriers file says).

The contract is API.md beside this file. `create_app` builds the service over a
`SandboxStore`; `carrier_sandbox.server.SandboxServer` runs it on loopback for tests and the
dev stack; `python -m carrier_sandbox` serves it on its own.
"""
