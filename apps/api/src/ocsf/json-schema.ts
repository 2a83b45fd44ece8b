// A JSON Schema (draft-07) of one OCSF event class, built from OCSF's own source files (the
// dictionary, the event classes and the objects vendored in ./schema). OCSF publishes no JSON
// Schema files in its repository (its schema server renders them); this is the small part of
// that rendering ActAs needs to validate what it emits:
// - a class's attributes are its own merged over its parents' (`extends`: class → category →
//   base_event), an object's over its parents' (`extends`); an attribute's definition is the
//   dictionary's merged with the class's or object's (enum values merged);
// - profile attributes (`$include` of profiles/…, or `profile: "…"`) are left out: ActAs emits
//   no profile (`metadata.profiles` is empty), so an event carrying one does not validate;
// - types: the dictionary's `types` (string_t, long_t, timestamp_t, …) with their regex,
//   max_len and range; an object type becomes a `$ref` to its definition; an object not vendored
//   becomes a schema nothing satisfies (`not: {}`), so an event using it does not validate;
// - `requirement: required` → `required`; integer enums (`*_id`) → `enum`; constraints
//   `at_least_one` / `just_one` → `anyOf` / `oneOf` of `required`; no other property is allowed
//   (`additionalProperties: false`), except in the open `object` (e.g. `unmapped`);
// - `class_uid` = category uid × 1000 + class uid, `type_uid` = class_uid × 100 + activity_id.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

type Json = Record<string, unknown>

interface AttributeSource {
  type?: string
  object_type?: string
  is_array?: boolean
  enum?: Record<string, unknown>
  requirement?: string
  profile?: string | null
  [key: string]: unknown
}

interface SourceFile {
  name: string
  uid?: number
  extends?: string
  category?: string
  attributes?: Record<string, AttributeSource | string[]>
  constraints?: { at_least_one?: string[]; just_one?: string[] }
}

interface TypeSource {
  type?: string
  regex?: string
  max_len?: number
  range?: [number, number]
  values?: unknown[]
}

export interface OcsfSource {
  version: string
  dictionary: Record<string, AttributeSource>
  types: Record<string, TypeSource>
  categories: Record<string, { uid: number }>
  events: Map<string, SourceFile>
  objects: Map<string, SourceFile>
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

function readTree(dir: string): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? readTree(join(dir, entry.name))
      : entry.name.endsWith('.json')
        ? [readJson<SourceFile>(join(dir, entry.name))]
        : [],
  )
}

/** The OCSF source files of `dir` (dictionary.json, categories.json, events/, objects/). */
export function loadOcsfSource(dir: string): OcsfSource {
  const dictionary = readJson<{
    attributes: Record<string, AttributeSource>
    types: { attributes: Record<string, TypeSource> }
  }>(join(dir, 'dictionary.json'))
  const categories = readJson<{ attributes: Record<string, { uid: number }> }>(
    join(dir, 'categories.json'),
  )
  return {
    version: readJson<{ version: string }>(join(dir, 'version.json')).version,
    dictionary: dictionary.attributes,
    types: dictionary.types.attributes,
    categories: categories.attributes,
    events: new Map(readTree(join(dir, 'events')).map((f) => [f.name, f])),
    objects: new Map(readTree(join(dir, 'objects')).map((f) => [f.name, f])),
  }
}

function mergeAttribute(base: AttributeSource | undefined, over: AttributeSource) {
  const merged: AttributeSource = { ...base, ...over }
  if (base?.enum || over.enum) merged.enum = { ...base?.enum, ...over.enum }
  return merged
}

/** A file's attributes merged over its parents' (profile attributes left out). */
function attributesOf(
  files: Map<string, SourceFile>,
  name: string,
): { attributes: Record<string, AttributeSource>; chain: SourceFile[] } {
  const file = files.get(name)
  if (!file) throw new Error(`OCSF: no definition of ${name}`)
  const parent = file.extends ? attributesOf(files, file.extends) : null
  const attributes: Record<string, AttributeSource> = { ...parent?.attributes }
  for (const [key, value] of Object.entries(file.attributes ?? {})) {
    if (key === '$include' || Array.isArray(value)) continue
    if (typeof value.profile === 'string') continue
    attributes[key] = mergeAttribute(attributes[key], value)
  }
  return { attributes, chain: [...(parent?.chain ?? []), file] }
}

function constraintsOf(chain: SourceFile[]): Json[] {
  // The nearest definition's constraints (a child's replace its parent's).
  const constraints = chain.findLast((f) => f.constraints)?.constraints
  const out: Json[] = []
  if (constraints?.at_least_one)
    out.push({ anyOf: constraints.at_least_one.map((k) => ({ required: [k] })) })
  if (constraints?.just_one)
    out.push({ oneOf: constraints.just_one.map((k) => ({ required: [k] })) })
  return out
}

class Builder {
  readonly definitions: Record<string, Json> = {}

  constructor(private readonly source: OcsfSource) {}

  private typeSchema(typeName: string): Json {
    const type = this.source.types[typeName]
    if (!type) throw new Error(`OCSF: unknown type ${typeName}`)
    const base: Json =
      typeName === 'string_t'
        ? { type: 'string' }
        : typeName === 'integer_t' || typeName === 'long_t'
          ? { type: 'integer' }
          : typeName === 'float_t'
            ? { type: 'number' }
            : typeName === 'boolean_t'
              ? { type: 'boolean' }
              : typeName === 'json_t'
                ? {}
                : type.type
                  ? this.typeSchema(type.type)
                  : {}
    return {
      ...base,
      ...(type.regex ? { pattern: type.regex } : {}),
      ...(type.max_len ? { maxLength: type.max_len } : {}),
      ...(type.range ? { minimum: type.range[0], maximum: type.range[1] } : {}),
    }
  }

  private attributeSchema(name: string, local: AttributeSource): Json {
    const attribute = mergeAttribute(this.source.dictionary[name], local)
    const typeName = attribute.type
    if (!typeName) throw new Error(`OCSF: attribute ${name} has no type`)
    let schema: Json
    if (typeName in this.source.types) {
      schema = this.typeSchema(typeName)
      if (attribute.enum && schema.type === 'integer')
        schema = { ...schema, enum: Object.keys(attribute.enum).map(Number) }
    } else {
      schema = this.objectRef(typeName)
    }
    return attribute.is_array ? { type: 'array', items: schema } : schema
  }

  private objectRef(name: string): Json {
    if (!this.source.objects.has(name))
      return { not: {}, description: `OCSF object ${name}: not vendored, ActAs emits none` }
    if (!(name in this.definitions)) {
      this.definitions[name] = {} // reserved: objects refer to each other
      this.definitions[name] = this.objectSchema(name)
    }
    return { $ref: `#/definitions/${name}` }
  }

  private objectSchema(name: string): Json {
    if (name === 'object') return { type: 'object' }
    const { attributes, chain } = attributesOf(this.source.objects, name)
    return this.properties(attributes, chain)
  }

  properties(attributes: Record<string, AttributeSource>, chain: SourceFile[]): Json {
    const properties: Record<string, Json> = {}
    const required: string[] = []
    for (const [key, local] of Object.entries(attributes)) {
      properties[key] = this.attributeSchema(key, local)
      if (local.requirement === 'required') required.push(key)
    }
    const constraints = constraintsOf(chain)
    return {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required: required.sort() } : {}),
      additionalProperties: false,
      ...(constraints.length > 0 ? { allOf: constraints } : {}),
    }
  }
}

/** The class's `class_uid` (category uid × 1000 + class uid). */
export function classUid(source: OcsfSource, className: string): number {
  const file = source.events.get(className)
  if (!file || file.uid === undefined) throw new Error(`OCSF: ${className} is not an event class`)
  let category: string | undefined
  for (let f: SourceFile | undefined = file; f && !category;) {
    category = f.category
    f = f.extends ? source.events.get(f.extends) : undefined
  }
  const uid = category ? source.categories[category]?.uid : undefined
  if (uid === undefined) throw new Error(`OCSF: ${className} has no category`)
  return uid * 1000 + file.uid
}

/** The JSON Schema (draft-07) of one event class, e.g. `authentication`. */
export function eventClassSchema(source: OcsfSource, className: string): Json {
  const { attributes, chain } = attributesOf(source.events, className)
  const builder = new Builder(source)
  const schema = builder.properties(attributes, chain)
  const uid = classUid(source, className)
  const activities = Object.keys(attributes.activity_id?.enum ?? {}).map(Number)
  const properties = schema.properties as Record<string, Json>
  properties.class_uid = { type: 'integer', const: uid }
  properties.category_uid = { type: 'integer', const: Math.floor(uid / 1000) }
  properties.type_uid = { type: 'integer', enum: activities.map((a) => uid * 100 + a) }
  // type_uid is the class's × 100 + the activity's.
  const typeOfActivity = {
    anyOf: activities.map((a) => ({
      properties: { activity_id: { const: a }, type_uid: { const: uid * 100 + a } },
    })),
  }
  schema.allOf = [...((schema.allOf as Json[] | undefined) ?? []), typeOfActivity]
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://schema.ocsf.io/${source.version}/classes/${className}`,
    title: `OCSF ${source.version} ${className} (${uid})`,
    ...schema,
    definitions: builder.definitions,
  }
}
