import { createServer } from 'node:http'

/** A signing key of the test identity provider: the private JWK (with alg and kid) for hono's sign. */
export type TestSigningKey = JsonWebKey & { alg: 'RS256' | 'ES256'; kid: string }

export type JwksServer = {
  /** JWKS documents at `${url}/keys/<name>` (any name: counted apart, so tests never share a count). */
  url: string
  /** Private keys by kid; `rsa-1` and `ec-1` are published, `rsa-2` only after a rotation. */
  keys: Record<string, TestSigningKey>
  close: () => Promise<void>
}

/**
 * A local identity provider's key endpoint, as Auth0, Keycloak or Supabase serve one: the public
 * halves of freshly generated RS256 and ES256 keys (WebCrypto). Per name:
 * - `GET /keys/<name>` the JWKS (`rsa-1`, `ec-1`; after `POST /rotate/<name>`, `rsa-2` too);
 * - `GET /hits/<name>` how many times that JWKS was fetched;
 * - `POST /down/<name>` makes it answer 500 from then on.
 */
export async function startJwksServer(): Promise<JwksServer> {
  const rsa = () => crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
  const pairs = {
    'rsa-1': { alg: 'RS256' as const, pair: await rsa() },
    'ec-1': { alg: 'ES256' as const, pair: (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair },
    'rsa-2': { alg: 'RS256' as const, pair: await rsa() },
  }
  const keys: Record<string, TestSigningKey> = {}
  const published: Record<string, JsonWebKey> = {}
  const jwk = async (key: CryptoKey) => (await crypto.subtle.exportKey('jwk', key)) as JsonWebKey
  for (const [kid, { alg, pair }] of Object.entries(pairs)) {
    keys[kid] = { ...(await jwk(pair.privateKey)), alg, kid }
    published[kid] = { ...(await jwk(pair.publicKey)), alg, kid, use: 'sig' } as JsonWebKey
  }
  const hits = new Map<string, number>()
  const rotated = new Set<string>()
  const down = new Set<string>()
  const server = createServer((req, res) => {
    const [, verb, name = ''] = (req.url ?? '/').split('/')
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'POST' && verb === 'rotate') return rotated.add(name), send(200, { ok: true })
    if (req.method === 'POST' && verb === 'down') return down.add(name), send(200, { ok: true })
    if (verb === 'hits') return send(200, { hits: hits.get(name) ?? 0 })
    if (verb !== 'keys') return send(404, { error: 'not found' })
    hits.set(name, (hits.get(name) ?? 0) + 1)
    if (down.has(name)) return send(500, { error: 'down' })
    send(200, { keys: [published['rsa-1'], published['ec-1'], ...(rotated.has(name) ? [published['rsa-2']] : [])] })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    keys,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
