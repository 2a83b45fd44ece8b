// Progress on stderr: a bar when stderr is a terminal, a plain counter line every page
// otherwise (logs, CI). The audit log has no total count, so the bar shows how much of the
// date range is covered: records come newest first (from `to` back to `from`), OCSF events in
// chain order (from `from` on to `to`).

export interface Progress {
  /** `reached` = the time (ms) of the last row written; `order`: which way rows come. */
  update(rows: number, reached: number | null, order?: 'newest-first' | 'oldest-first'): void
  done(rows: number): void
}

export function createProgress(
  stream: NodeJS.WriteStream,
  range: { from: number; to: number },
): Progress {
  const span = Math.max(1, range.to - range.from)
  const covered = (reached: number | null, order: 'newest-first' | 'oldest-first') =>
    reached === null
      ? 0
      : order === 'newest-first'
        ? (range.to - reached) / span
        : (reached - range.from) / span
  if (!stream.isTTY) {
    return {
      update: (rows) => stream.write(`audit-export: ${rows} rows\n`),
      done: (rows) => stream.write(`audit-export: done, ${rows} rows\n`),
    }
  }
  const width = 30
  const draw = (fraction: number, rows: number) => {
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
    const pct = String(Math.round(fraction * 100)).padStart(3)
    stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}%  ${rows} rows`)
  }
  return {
    update: (rows, reached, order = 'newest-first') => draw(covered(reached, order), rows),
    done: (rows) => {
      draw(1, rows)
      stream.write('\n')
    },
  }
}
