import { createServer, type Socket } from 'node:net'

/**
 * A TCP server on loopback that hands each connection to `onSocket` (or leaves it unanswered) and
 * destroys every open connection when closed.
 */
export async function startLoopbackServer(onSocket: (socket: Socket) => void = () => {}): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Accepts connections and never answers: an upstream that hangs before sending headers. */
export async function startSilentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const { port, close } = await startLoopbackServer()
  return { url: `http://127.0.0.1:${port}`, close }
}
