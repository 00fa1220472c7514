"""Local emulators of the remote services the ipfs package talks to (Kubo RPC, Storacha's HTTP bridge + S3 PUT).

They are small real HTTP/1.1 servers on 127.0.0.1 that follow the documented wire formats and re-hash everything
they receive and serve, so a client that sends a wrong CID or accepts wrong bytes fails the tests.
"""
