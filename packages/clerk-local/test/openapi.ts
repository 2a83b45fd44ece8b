import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'

// Validates responses against Clerk's OpenAPI 3.0 contracts, vendored read-only in
// packages/clerk-local/openapi/ (see its README for the source and the spec date):
// - `nullable: true` (OpenAPI) becomes `anyOf: [{type: 'null'}, <schema>]`, which also covers
//   `nullable` next to `allOf: [$ref]` whose target is not nullable;
// - `discriminator` (its `mapping` is unsupported by Ajv) is dropped: `oneOf` alone decides;
// - `$ref: '#/components/schemas/X'` resolves inside one schema document per spec.
// A status the spec does not document for an operation is a failure too.

const SPEC_DIR = new URL('../openapi/', import.meta.url)
/** The Clerk API version of the vendored specs (`openapi/{bapi,fapi}-<version>.yml`). */
const SPEC_VERSION = '2026-05-12'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
interface ResponseObject {
  $ref?: string
  content?: Record<string, { schema?: Json }>
}
interface Operation {
  responses?: Record<string, ResponseObject>
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function convert(node: Json): Json {
  if (Array.isArray(node)) return node.map(convert)
  if (node === null || typeof node !== 'object') return node
  const out: { [key: string]: Json } = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v
    else if (
      k === 'example' ||
      k === 'examples' ||
      k === 'discriminator' ||
      k === 'xml' ||
      k.startsWith('x-')
    )
      continue
    else if (k === 'properties' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // Property names are data, not keywords: convert each schema but keep every name.
      const props: { [key: string]: Json } = {}
      for (const [name, schema] of Object.entries(v)) props[name] = convert(schema)
      out[k] = props
    } else out[k] = convert(v)
  }
  const nullable = out.nullable === true
  delete out.nullable
  return nullable ? { anyOf: [{ type: 'null' }, out] } : out
}

export type Api = 'bapi' | 'fapi'

interface LoadedSpec {
  api: Api
  doc: {
    paths: Record<string, Record<string, Operation>>
    components: { responses?: Record<string, ResponseObject> }
  }
  ajv: Ajv
  /** Spec path templates split into segments; `{param}` segments match anything. */
  templates: Array<{ template: string; segments: string[] }>
  cache: Map<string, ValidateFunction>
}

const specs = new Map<Api, LoadedSpec>()

function load(api: Api): LoadedSpec {
  const cached = specs.get(api)
  if (cached) return cached
  const file = new URL(`${api}-${SPEC_VERSION}.yml`, SPEC_DIR)
  const doc = parse(readFileSync(file, 'utf8')) as LoadedSpec['doc'] & {
    components: { schemas: Record<string, Json> }
  }
  const schemas: Record<string, Json> = {}
  for (const [name, schema] of Object.entries(doc.components.schemas))
    schemas[name] = convert(schema)
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  // OpenAPI's integer formats are not JSON Schema formats; the type check is enough.
  ajv.addFormat('int32', true).addFormat('int64', true)
  ajv.addSchema({ $id: `${api}.json`, components: { schemas } } as object)
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    segments: template.split('/').filter(Boolean),
  }))
  const spec: LoadedSpec = { api, doc, ajv, templates, cache: new Map() }
  specs.set(api, spec)
  return spec
}

/** Finds the spec's path template for `/users/{user_id}`, `/v1/users/:id` or a concrete path. */
function findTemplate(spec: LoadedSpec, path: string): string {
  const clean = path.split('?')[0]!
  const direct = spec.doc.paths[clean]
  if (direct) return clean
  const candidates =
    spec.api === 'bapi' && clean.startsWith('/v1/') ? [clean.slice(3), clean] : [clean]
  for (const candidate of candidates) {
    if (spec.doc.paths[candidate]) return candidate
    const parts = candidate.split('/').filter(Boolean)
    // Prefer the template with the most literal segments (`/users/count` over `/users/{user_id}`).
    let best: { template: string; literals: number } | undefined
    for (const { template, segments } of spec.templates) {
      if (segments.length !== parts.length) continue
      let literals = 0
      let ok = true
      for (let i = 0; i < parts.length; i++) {
        const seg = segments[i]!
        const part = parts[i]!
        const segIsParam = seg.startsWith('{')
        const partIsParam = part.startsWith(':') || part.startsWith('{')
        if (segIsParam) continue
        if (partIsParam || seg !== part) {
          ok = false
          break
        }
        literals++
      }
      if (ok && (!best || literals > best.literals)) best = { template, literals }
    }
    if (best) return best.template
  }
  throw new Error(`${spec.api} spec has no path matching ${path}`)
}

function responseSchema(spec: LoadedSpec, method: string, template: string, status: number): Json {
  const op = spec.doc.paths[template]?.[method.toLowerCase()]
  if (!op) throw new Error(`${spec.api} spec has no ${method.toUpperCase()} ${template}`)
  const responses = op.responses ?? {}
  let response =
    responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default
  if (!response) {
    throw new Error(
      `${spec.api} spec documents no ${status} for ${method.toUpperCase()} ${template} (documented: ${Object.keys(responses).join(', ')})`,
    )
  }
  while (response.$ref) {
    const name: string = response.$ref.split('/').pop()!
    const target: ResponseObject | undefined = spec.doc.components.responses?.[name]
    if (!target) throw new Error(`unresolved response ${response.$ref}`)
    response = target
  }
  return response.content?.['application/json']?.schema ?? {}
}

export interface ValidationResult {
  ok: boolean
  /** The spec's path template that was used, e.g. `/users/{user_id}`. */
  template: string
  errors: string[]
}

function validate(
  api: Api,
  method: string,
  path: string,
  status: number,
  body: unknown,
): ValidationResult {
  const spec = load(api)
  const template = findTemplate(spec, path)
  const key = `${method.toUpperCase()} ${template} ${status}`
  let fn = spec.cache.get(key)
  if (!fn) {
    const schema = convert(responseSchema(spec, method, template, status))
    const rebased = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', `"${api}.json#/components/`),
    ) as object
    fn = spec.ajv.compile(rebased)
    spec.cache.set(key, fn)
  }
  if (fn(body)) return { ok: true, template, errors: [] }
  const errors = (fn.errors ?? [])
    .slice(0, 12)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
  return { ok: false, template, errors }
}

/**
 * Checks a Backend API response against bapi-2026-05-12.yml. `path` is a spec template
 * (`/users/{user_id}`), a router pattern (`/v1/users/:user_id`) or a concrete path
 * (`/v1/users/user_123`); a `/v1` prefix is optional. Throws when the spec has no such operation
 * or documents no such status.
 */
export function validateBapi(
  method: string,
  path: string,
  status: number,
  body: unknown,
): ValidationResult {
  return validate('bapi', method, path, status, body)
}

/** Same as `validateBapi`, against fapi-2026-05-12.yml (paths as in that spec: `/v1/client/...`). */
export function validateFapi(
  method: string,
  path: string,
  status: number,
  body: unknown,
): ValidationResult {
  return validate('fapi', method, path, status, body)
}

/** Throws a readable error unless the response matches the BAPI spec. */
export function assertBapi(method: string, path: string, status: number, body: unknown): void {
  const result = validateBapi(method, path, status, body)
  if (!result.ok)
    throw new Error(
      `${method.toUpperCase()} ${result.template} ${status} does not match bapi-${SPEC_VERSION}.yml:\n${result.errors.join('\n')}`,
    )
}

/** Throws a readable error unless the response matches the FAPI spec. */
export function assertFapi(method: string, path: string, status: number, body: unknown): void {
  const result = validateFapi(method, path, status, body)
  if (!result.ok)
    throw new Error(
      `${method.toUpperCase()} ${result.template} ${status} does not match fapi-${SPEC_VERSION}.yml:\n${result.errors.join('\n')}`,
    )
}
