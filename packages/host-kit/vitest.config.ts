// The workspace's shared vitest preset (source-condition resolution, include, timeouts).
export { default } from '../../vitest.shared.ts'
