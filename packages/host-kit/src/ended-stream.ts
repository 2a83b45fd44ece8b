// News of an end by push: ActAs's `GET /v1/sessions/ended` (server-sent events; see
// packages/guard/README.md, "The push of ends"), followed with the session's own token. The
// token goes in the Authorization header (never a URL), so `fetch` and a streamed body, not
// EventSource. The stream closes when the token expires (≤ 60 s): it is opened again with a fresh
// one. The banner's poll of the status route stays the backstop.

/** How an impersonation ended, as the stream tells its own session (`impersonationEnded`). */
export interface EndedNews {
  impersonationId: string | null
  endedBy: { id: string; email: string | null } | null
  reason: string | null
}

export interface FollowEndsOptions {
  /** `<ActAs API origin>/v1/sessions/ended` (`SESSIONS_ENDED_PATH` of @actas/contracts). */
  url: string
  getToken(): Promise<string | null>
  onEnded(news: EndedNews): void
  signal: AbortSignal
  fetch?: typeof fetch
  /** Wait before opening it again after it closed or failed (default 1,000 ms). */
  retryMs?: number
}

function newsOf(data: string): EndedNews {
  try {
    const event = JSON.parse(data) as {
      impersonationId?: unknown
      impersonationEnded?: {
        endedBy?: { id?: unknown; email?: unknown } | null
        reason?: unknown
      } | null
    }
    const ended = event.impersonationEnded ?? null
    const by = ended?.endedBy ?? null
    return {
      impersonationId: typeof event.impersonationId === 'string' ? event.impersonationId : null,
      endedBy:
        by && typeof by.id === 'string'
          ? { id: by.id, email: typeof by.email === 'string' ? by.email : null }
          : null,
      reason: typeof ended?.reason === 'string' && ended.reason !== '' ? ended.reason : null,
    }
  } catch {
    return { impersonationId: null, endedBy: null, reason: null }
  }
}

/** Reads one stream; true when it told of the end. */
async function readOnce(options: FollowEndsOptions, token: string): Promise<boolean> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const res = await doFetch(options.url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    cache: 'no-store',
    credentials: 'omit',
    signal: options.signal,
  })
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined)
    return false
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return false
    buffer += value
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (event === 'ended') {
        options.onEnded(newsOf(data.join('\n')))
        await reader.cancel().catch(() => undefined)
        return true
      }
    }
  }
}

/** Follows the stream until it tells of the end or `signal` aborts. Never throws. */
export async function followEnds(options: FollowEndsOptions): Promise<void> {
  const retryMs = options.retryMs ?? 1_000
  while (!options.signal.aborted) {
    try {
      const token = await options.getToken()
      if (token && (await readOnce(options, token))) return
    } catch {
      // network, abort, a refused token: try again below (the poll is the backstop)
    }
    if (options.signal.aborted) return
    await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}
