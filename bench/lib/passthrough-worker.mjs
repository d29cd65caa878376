// The floor any Worker in front of DashScope pays: a pass-through Worker (the request forwarded,
// the upstream body returned untouched) in the same runtime as ours. Its cost against the direct
// baseline is the platform's hop; ours minus it is what our code adds. Under /js/ the body passes
// through one JavaScript ReadableStream (each upstream read re-enqueued, nothing parsed): the floor
// of any Worker that looks at the bytes at all.
export const PASSTHROUGH_SCRIPT = `export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const js = url.pathname.startsWith('/js/')
    const path = js ? url.pathname.slice(3) : url.pathname
    const upstream = await fetch(env.UPSTREAM + path + url.search, { method: request.method, headers: request.headers, body: request.body })
    let body = upstream.body
    if (js && body) {
      const reader = body.getReader()
      body = new ReadableStream({
        async pull(controller) {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 })
    }
    return new Response(body, { status: upstream.status, headers: upstream.headers })
  },
}`

export async function startPassthrough(upstreamUrl) {
  const { Miniflare, convertV4MiniflareOptions } = await import('../../node_modules/wrangler/node_modules/miniflare/dist/src/index.js')
  const mf = new Miniflare(convertV4MiniflareOptions({ modules: true, script: PASSTHROUGH_SCRIPT, compatibilityDate: '2026-04-01', compatibilityFlags: ['nodejs_compat'], bindings: { UPSTREAM: upstreamUrl }, host: '127.0.0.1', port: 0 }))
  const url = (await mf.ready).origin
  return { url, pid: process.pid, stop: () => mf.dispose() }
}
