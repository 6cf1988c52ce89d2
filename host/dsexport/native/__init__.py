"""The native-messaging host (``dsexport host``): framing, the server loop, one handler per
request type, chunked transfers and the caller check. The protocol is in docs/protocol.md."""
