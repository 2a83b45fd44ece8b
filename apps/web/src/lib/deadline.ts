// Every console request has a deadline: nothing waits forever on Clerk or the API.

/** No console request (API call, sign-in, session token) waits longer than this. */
export const REQUEST_TIMEOUT_MS = 10_000

/** `work`, or `onTimeout()`'s error once `ms` have passed without an answer. */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
