// @actas/api: start the API in-process (tests, the web e2e) or see server.ts for the process.
export { buildApp } from './app.js'
export {
  loadConfig,
  ConfigError,
  LOCAL_SECRET_KEY_PREFIX,
  LOCAL_FRONTEND_API_HOST,
  IN_MEMORY_DATA_DIR,
  localClerkEnvironment,
} from './config.js'
export type { Config, LocalClerkServer } from './config.js'
export { createDeps } from './deps.js'
export type { AppDeps, DepsOverrides } from './deps.js'
export { openDatabase } from './audit/db.js'
export type { OpenedDatabase } from './audit/db.js'
export { createLogger } from './logger.js'
