import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { parse } from 'yaml'

// Validates FAPI responses against Clerk's OpenAPI 3.0 contract (fapi-2026-05-12.yml).
// OpenAPI's `nullable: true` means "null is also allowed", even next to `allOf: [$ref]` whose
// target is not nullable; JSON Schema has no such keyword, so every nullable schema is rewritten
// to `anyOf: [{type: 'null'}, <schema>]` before compiling.

const SPEC_PATH = '/work/shared/clerk-openapi/fapi-2026-05-12.yml'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
interface Operation {
  responses?: Record<string, { $ref?: string; content?: Record<string, { schema?: Json }> }>
}

let loaded: { doc: Record<string, unknown>; ajv: Ajv } | undefined
const cache = new Map<string, ValidateFunction>()

function convert(node: Json): Json {
  if (Array.isArray(node)) return node.map(convert)
  if (node === null || typeof node !== 'object') return node
  const out: { [key: string]: Json } = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/components/schemas/', '#/definitions/')
    else if (k === 'example' || k === 'examples' || k === 'deprecated' || k === 'discriminator' || k === 'xml') continue
    else out[k] = convert(v)
  }
  if (out.nullable === true) {
    delete out.nullable
    return { anyOf: [{ type: 'null' }, out] }
  }
  delete out.nullable
  return out
}

function load() {
  if (loaded) return loaded
  const doc = parse(readFileSync(SPEC_PATH, 'utf8')) as Record<string, unknown>
  const components = doc.components as { schemas: Record<string, Json> }
  const definitions: Record<string, Json> = {}
  for (const [name, schema] of Object.entries(components.schemas)) definitions[name] = convert(schema)
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema({ $id: 'fapi', definitions } as object)
  loaded = { doc, ajv }
  return loaded
}

function responseSchema(method: string, pathTemplate: string, status: number): Json {
  const { doc } = load()
  const paths = doc.paths as Record<string, Record<string, Operation>>
  const op = paths[pathTemplate]?.[method.toLowerCase()]
  if (!op) throw new Error(`spec has no ${method} ${pathTemplate}`)
  let response = op.responses?.[String(status)]
  if (!response) throw new Error(`spec has no ${status} response for ${method} ${pathTemplate}`)
  if (response.$ref) {
    const name = response.$ref.split('/').pop()!
    response = (doc.components as { responses: Record<string, typeof response> }).responses[name]!
  }
  const schema = response.content?.['application/json']?.schema
  if (!schema) return {}
  return schema
}

/** Throws with the schema errors unless `body` is what the spec says `method pathTemplate` answers with `status`. */
export function validateFapiResponse(method: string, pathTemplate: string, status: number, body: unknown): void {
  const key = `${method} ${pathTemplate} ${status}`
  let validate = cache.get(key)
  if (!validate) {
    const schema = convert(responseSchema(method, pathTemplate, status))
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"fapi#/definitions/')) as object
    validate = load().ajv.compile(rebased)
    cache.set(key, validate)
  }
  if (!validate(body)) {
    const errors = (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    throw new Error(`${key}: response does not match fapi-2026-05-12.yml:\n${errors.join('\n')}`)
  }
}
