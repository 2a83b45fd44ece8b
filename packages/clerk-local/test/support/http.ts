// One raw HTTP call to the local server, as a client without an SDK sends it: a JSON body (or a
// raw string), `Authorization: Bearer <key>` when a key is given. The answer is parsed as JSON
// when it has a body; `ms` is how long the answer took.
export interface Reply<B = unknown> {
  status: number
  body: B
  headers: Headers
  ms: number
}

export async function send(
  url: string,
  method: string,
  options: { body?: unknown; raw?: string; key?: string | null } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.key != null) headers.Authorization = `Bearer ${options.key}`
  const body =
    options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const started = performance.now()
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) })
  const text = await res.text()
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as unknown) : undefined,
    headers: res.headers,
    ms: performance.now() - started,
  }
}
