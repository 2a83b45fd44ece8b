import { mergeConfig } from 'vitest/config'
import preset from '../../vitest.shared.ts'

// The workspace's shared vitest preset; the API its tests run loads its database from the
// migrated PGlite template of the API suite's global set-up.
export default mergeConfig(preset, {
  test: { globalSetup: ['../../apps/api/test/support/global-setup.ts'] },
})
