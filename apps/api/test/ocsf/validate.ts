// Validates OCSF events against the vendored OCSF schema (apps/api/src/ocsf/schema), with the
// JSON Schema generated from it (src/ocsf/json-schema.ts) and Ajv. For the tests of the mapping,
// the export and the log streams.
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import type { ValidateFunction } from 'ajv'
import { eventClassSchema, loadOcsfSource } from '../../src/ocsf/json-schema.js'
import { OCSF_CLASSES } from '../../src/ocsf/map.js'

export const OCSF_SCHEMA_DIR = fileURLToPath(new URL('../../src/ocsf/schema', import.meta.url))
export const ocsfSource = loadOcsfSource(OCSF_SCHEMA_DIR)

const validators = new Map<number, ValidateFunction>()

/** The validator of the class whose `class_uid` is `uid`. */
export function validatorFor(uid: number): ValidateFunction {
  let validate = validators.get(uid)
  if (!validate) {
    const name = Object.entries(OCSF_CLASSES).find(([, u]) => u === uid)?.[0]
    if (!name) throw new Error(`class_uid ${uid} is none ActAs emits`)
    // OCSF's regexes are PCRE-style (not all valid with the `u` flag).
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false })
    validate = ajv.compile(eventClassSchema(ocsfSource, name))
    validators.set(uid, validate)
  }
  return validate
}

/** The schema errors of `event` (empty when it validates), for one readable assertion. */
export function ocsfErrors(event: unknown): string[] {
  const uid = (event as { class_uid?: unknown }).class_uid
  if (typeof uid !== 'number') return ['class_uid is missing']
  const validate = validatorFor(uid)
  if (validate(event)) return []
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  )
}
