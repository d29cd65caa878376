// Renders the service's OpenAPI 3.1 document (/openapi.json) as a readable reference: operations
// grouped by tag, their parameters, request bodies and responses, the Server-Sent Events of the
// answer stream, and the schemas. A pure function from the document to HTML, so it is tested
// without a browser; no framework and nothing from a CDN.

const METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch']

/** The page's own words around the document; the document itself (its descriptions) is English. */
export const LABELS = {
  en: { lang: 'en', oneOf: 'One of:', required: 'required', field: 'field', type: 'type', events: 'events', parameters: 'Parameters', name: 'name', in: 'in', requestBody: 'Request body', responses: 'Responses', status: 'status', body: 'body', schemas: 'Schemas', operations: 'Operations', open: 'open', whenConfigured: 'when configured', playground: 'playground', note: '' },
  zh: { lang: 'zh-CN', oneOf: '以下之一：', required: '必填', field: '字段', type: '类型', events: '事件', parameters: '参数', name: '名称', in: '位置', requestBody: '请求体', responses: '响应', status: '状态码', body: '内容', schemas: '数据结构', operations: '接口', open: '公开', whenConfigured: '（配置后需要）', playground: '演示页面', note: '接口说明取自 OpenAPI 文档，为英文原文。' },
}
let L = LABELS.en

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

/** The little Markdown the document uses: `code` spans. */
function prose(text) {
  return text ? escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>') : ''
}

export function operationAnchor(method, path) {
  return `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`
}

const schemaAnchor = (name) => `schema-${name}`

function refName(ref) {
  return ref.split('/').at(-1)
}

function resolve(doc, node) {
  let seen = 0
  while (node && node.$ref && seen++ < 20) node = doc.components?.[node.$ref.split('/')[2]]?.[refName(node.$ref)]
  return node ?? {}
}

/** A one-line type: `string`, `integer ≥ 0`, `array of StoredExample`, `"user" | "assistant"`. */
export function describeType(schema) {
  if (!schema || Object.keys(schema).length === 0) return 'any'
  if (schema.$ref) return `<a href="#${schemaAnchor(refName(schema.$ref))}">${escapeHtml(refName(schema.$ref))}</a>`
  if (schema.const !== undefined) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`
  if (schema.enum) return schema.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' | ')
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives) return alternatives.map(describeType).join(' or ')
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []
  let text = types.map((t) => (t === 'array' ? `array of ${describeType(schema.items)}` : t === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object' && !schema.properties && Object.keys(schema.additionalProperties).length ? `map of ${describeType(schema.additionalProperties)}` : escapeHtml(t))).join(' | ')
  if (!text) text = 'any'
  const limits = []
  if (schema.minLength !== undefined) limits.push(`≥ ${schema.minLength} chars`)
  if (schema.maxLength !== undefined) limits.push(`≤ ${schema.maxLength} chars`)
  if (schema.minItems !== undefined) limits.push(`≥ ${schema.minItems} items`)
  if (schema.maxItems !== undefined) limits.push(`≤ ${schema.maxItems} items`)
  if (schema.minimum !== undefined && Math.abs(schema.minimum) < 2 ** 53 - 1) limits.push(`≥ ${schema.minimum}`)
  if (schema.maximum !== undefined && Math.abs(schema.maximum) < 2 ** 53 - 1) limits.push(`≤ ${schema.maximum}`)
  if (schema.pattern) limits.push(`matches <code>${escapeHtml(schema.pattern)}</code>`)
  if (schema.format) limits.push(escapeHtml(schema.format))
  if (schema.default !== undefined) limits.push(`default <code>${escapeHtml(JSON.stringify(schema.default))}</code>`)
  return limits.length ? `${text} <small>(${limits.join(', ')})</small>` : text
}

/** An object's fields as a table, nested objects and arrays of objects indented below their field. */
export function renderFields(schema, depth = 0) {
  if (!schema || depth > 6) return ''
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives && !schema.properties) {
    return `<p>${L.oneOf}</p>${alternatives.map((alt) => `<div class="nested">${alt.$ref ? `<p>${describeType(alt)}</p>` : renderFields(alt, depth + 1) || `<p>${describeType(alt)}</p>`}</div>`).join('')}`
  }
  if (!schema.properties) return ''
  const required = new Set(schema.required ?? [])
  const rows = Object.entries(schema.properties).map(([name, prop]) => {
    const inner = prop.type === 'object' || prop.properties ? prop : prop.type === 'array' && prop.items?.properties ? prop.items : null
    const nested = inner ? renderFields(inner, depth + 1) : ''
    return `<tr><td class="name"><code>${escapeHtml(name)}</code>${required.has(name) ? ` <span class="req">${L.required}</span>` : ''}</td><td>${describeType(prop)}${prop.description ? `<br>${prose(prop.description)}` : ''}${nested ? `<div class="nested">${nested}</div>` : ''}</td></tr>`
  })
  return `<table><thead><tr><th>${L.field}</th><th>${L.type}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function renderContent(doc, content) {
  return Object.entries(content ?? {})
    .map(([type, media]) => {
      const schema = media.schema ?? {}
      if (type === 'text/event-stream' && schema.$ref && resolve(doc, schema).oneOf) return `<p><code>${escapeHtml(type)}</code>, ${L.events}:</p>${renderEvents(doc, resolve(doc, schema))}`
      const body = schema.$ref ? `<p>${describeType(schema)}</p>${renderFields(resolve(doc, schema))}` : renderFields(schema) || `<p>${describeType(schema)}</p>`
      return `<p><code>${escapeHtml(type)}</code></p>${body}`
    })
    .join('')
}

/** The answer stream: each event's name, when it comes, and its data's fields. */
function renderEvents(doc, union) {
  const items = union.oneOf.map((alt) => {
    const event = resolve(doc, alt)
    const name = event.properties?.event?.const ?? refName(alt.$ref ?? '')
    return `<dt id="event-${escapeHtml(name)}"><code>event: ${escapeHtml(name)}</code></dt><dd>${prose(event.description)}${renderFields(event.properties?.data)}</dd>`
  })
  return `<dl class="events">${items.join('')}</dl>`
}

function renderAuth(doc, op) {
  const security = op.security ?? doc.security ?? []
  if (security.length === 0) return `<span class="auth">${L.open}</span>`
  const optional = security.some((s) => Object.keys(s).length === 0)
  const names = security.flatMap((s) => Object.keys(s))
  const label = names.map((n) => (n === 'adminToken' ? 'admin token' : n === 'apiKey' ? 'API key' : n)).join(' or ')
  return `<span class="auth" title="${escapeHtml(names.map((n) => doc.components?.securitySchemes?.[n]?.description ?? n).join(' '))}">${escapeHtml(optional ? `${label} ${L.whenConfigured}` : label)}</span>`
}

function renderOperation(doc, path, method, op) {
  const parameters = (op.parameters ?? []).map((p) => resolve(doc, p))
  const params = parameters.length
    ? `<h4>${L.parameters}</h4><table><thead><tr><th>${L.name}</th><th>${L.in}</th><th>${L.type}</th></tr></thead><tbody>${parameters.map((p) => `<tr><td class="name"><code>${escapeHtml(p.name)}</code>${p.required ? ` <span class="req">${L.required}</span>` : ''}</td><td>${escapeHtml(p.in)}</td><td>${describeType(p.schema)}${p.description ? `<br>${prose(p.description)}` : ''}</td></tr>`).join('')}</tbody></table>`
    : ''
  const body = op.requestBody ? `<h4>${L.requestBody}</h4>${op.requestBody.description ? `<p>${prose(op.requestBody.description)}</p>` : ''}${renderContent(doc, resolve(doc, op.requestBody).content)}` : ''
  const responses = Object.entries(op.responses ?? {})
    .map(([status, response]) => {
      const r = resolve(doc, response)
      const schemaOnly = response.$ref && r.content?.['application/json']?.schema?.$ref
      const content = schemaOnly ? `<p>${describeType(r.content['application/json'].schema)}</p>` : renderContent(doc, r.content)
      return `<tr><td class="status">${escapeHtml(status)}</td><td>${prose(r.description)}${content}</td></tr>`
    })
    .join('')
  return `<section class="op" id="${operationAnchor(method, path)}">
<h3><span class="method ${method}">${method}</span> <span class="path">${escapeHtml(path)}</span> ${renderAuth(doc, op)}</h3>
<p class="summary">${prose(op.summary)}</p>${op.description ? `<p>${prose(op.description)}</p>` : ''}
${params}${body}<h4>${L.responses}</h4><table><thead><tr><th>${L.status}</th><th>${L.body}</th></tr></thead><tbody>${responses}</tbody></table>
</section>`
}

/**
 * @param {any} doc an OpenAPI 3.1 document
 * @param {typeof LABELS.en} [labels] the page's words (LABELS.zh for a Chinese browser)
 * @returns {string} HTML
 */
export function renderReference(doc, labels = LABELS.en) {
  L = labels
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })))
  const tags = [...(doc.tags ?? []).map((t) => t.name), ...new Set(operations.flatMap((o) => o.op.tags ?? ['other']))].filter((t, i, all) => all.indexOf(t) === i)
  const byTag = tags.map((tag) => ({ tag, description: doc.tags?.find((t) => t.name === tag)?.description, ops: operations.filter((o) => (o.op.tags ?? ['other']).includes(tag)) })).filter((g) => g.ops.length)
  const nav = `<nav aria-label="${L.operations}"><ul>${operations.map((o) => `<li><a href="#${operationAnchor(o.method, o.path)}"><span class="method ${o.method}">${o.method}</span> <span class="path">${escapeHtml(o.path)}</span></a></li>`).join('')}</ul></nav>`
  const groups = byTag.map((g) => `<h2 id="tag-${escapeHtml(g.tag)}">${escapeHtml(g.tag)}</h2>${g.description ? `<p>${prose(g.description)}</p>` : ''}${g.ops.map((o) => renderOperation(doc, o.path, o.method, o.op)).join('')}`).join('')
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .filter(([name]) => !/Event$/.test(name) || name === 'AnswerEvent')
    .map(([name, schema]) => `<section id="${schemaAnchor(escapeHtml(name))}"><h3>${escapeHtml(name)}</h3>${schema.description ? `<p>${prose(schema.description)}</p>` : ''}${name === 'AnswerEvent' ? renderEvents(doc, schema) : renderFields(schema) || `<p>${describeType(schema)}</p>`}</section>`)
    .join('')
  return `<header><h1>${escapeHtml(doc.info?.title ?? 'API')}</h1><p class="summary">${prose(doc.info?.summary)}</p><p>${prose(doc.info?.description)}</p>
<p>OpenAPI ${escapeHtml(doc.openapi)} · <a href="../openapi.json">openapi.json</a> · <a href="../">${L.playground}</a></p>${L.note ? `<p class="summary">${L.note}</p>` : ''}</header>
${nav}${groups}<h2 id="schemas">${L.schemas}</h2>${schemas}`
}
