import { env, exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'
it('healthz answers', async () => {
  const r = await exports.default.fetch('http://x/healthz')
  expect(r.status).toBe(200)
  await env.SCHEMA_KV.put('a', 'b')
  expect(await env.SCHEMA_KV.get('a')).toBe('b')
})
