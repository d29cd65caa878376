// Follows the frontend side of the Postgres wire protocol (message boundaries only, no payloads)
// to notice the client's Terminate ('X'). A Postgres server closes the connection on Terminate;
// a local server that does not (PGlite's pglite-socket did not) would make the relay keep the WebSocket — and the
// worker's request or scheduled event that owns it — open until something times out.
//
// Startup-phase messages (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage) carry no type
// byte: int32 length, int32 code. After the StartupMessage (protocol 3.0), every message is
// type byte + int32 length (which counts itself).
const PROTOCOL_3 = 196608
const TERMINATE = 0x58

/** @returns {(chunk: Uint8Array) => boolean} true once a complete Terminate has passed */
export function terminateWatcher() {
  let typed = false
  let header = []
  let remaining = 0
  let seen = false
  return (chunk) => {
    for (let i = 0; i < chunk.length && !seen; ) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - i)
        remaining -= n
        i += n
        continue
      }
      header.push(chunk[i++])
      if (header.length < (typed ? 5 : 8)) continue
      const int32 = (at) => ((header[at] << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3]) >>> 0
      if (typed) {
        remaining = int32(1) - 4
        if (header[0] === TERMINATE) seen = true
      } else {
        remaining = int32(0) - 8
        if (int32(4) === PROTOCOL_3) typed = true
      }
      header = []
    }
    return seen && remaining === 0
  }
}
