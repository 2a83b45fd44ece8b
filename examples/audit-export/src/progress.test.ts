import { describe, expect, it } from 'vitest'
import { createProgress } from './progress.js'

function stream(isTTY: boolean) {
  const chunks: string[] = []
  const s = { isTTY, write: (c: string) => chunks.push(c) > 0 } as unknown as NodeJS.WriteStream
  return { s, chunks }
}

describe('progress on stderr', () => {
  it('draws a bar over the date range on a terminal', () => {
    const { s, chunks } = stream(true)
    const p = createProgress(s, { from: 0, to: 1000 })
    p.update(10, 750) // rows come newest first: a quarter of the range covered
    p.update(20, null)
    p.update(22, 600, 'oldest-first') // OCSF events come in chain order: 60 % covered
    p.done(25)
    expect(chunks[0]).toBe(`\r[${'#'.repeat(8)}${'-'.repeat(22)}]  25%  10 rows`)
    expect(chunks[1]).toBe(`\r[${'-'.repeat(30)}]   0%  20 rows`)
    expect(chunks[2]).toBe(`\r[${'#'.repeat(18)}${'-'.repeat(12)}]  60%  22 rows`)
    expect(chunks.slice(3)).toEqual([`\r[${'#'.repeat(30)}] 100%  25 rows`, '\n'])
  })

  it('writes a plain counter line per page elsewhere', () => {
    const { s, chunks } = stream(false)
    const p = createProgress(s, { from: 0, to: 1000 })
    p.update(100, 500)
    p.done(150)
    expect(chunks).toEqual(['audit-export: 100 rows\n', 'audit-export: done, 150 rows\n'])
  })
})
