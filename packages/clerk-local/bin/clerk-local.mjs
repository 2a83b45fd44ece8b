#!/usr/bin/env node
// Runs the built CLI (dist/cli.js). In the workspace, `pnpm dev` runs src/cli.ts with tsx instead.
try {
  await import('../dist/cli.js')
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    console.error(
      'clerk-local: dist/ is missing; run `npx -y pnpm@12.4.2 --filter @actas/clerk-local build` first (or `pnpm dev` in the package)',
    )
    process.exit(1)
  }
  throw error
}
