#!/usr/bin/env node
// The API suite runs a second time against a real Postgres server and a real Redis
// (apps/api `test:servers`), from Debian's packages: `postgresql` and `redis-server`. Make
// sure their binaries are there before the tests start: install them with apt when we can
// (as root), or say exactly what to do when we cannot. The tests start their own throwaway
// servers on free loopback ports; no system service is started or used.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

function hasPostgres() {
  const fromEnv = process.env.ACTAS_POSTGRES_BIN
  if (fromEnv) return existsSync(join(fromEnv, 'initdb'))
  const root = '/usr/lib/postgresql'
  return (
    existsSync(root) && readdirSync(root).some((v) => existsSync(join(root, v, 'bin', 'initdb')))
  )
}

function hasRedis() {
  const fromEnv = process.env.ACTAS_REDIS_SERVER
  if (fromEnv) return existsSync(fromEnv)
  return (process.env.PATH ?? '/usr/bin')
    .split(':')
    .concat('/usr/bin')
    .some((dir) => dir && existsSync(join(dir, 'redis-server')))
}

const missing = [...(hasPostgres() ? [] : ['postgresql']), ...(hasRedis() ? [] : ['redis-server'])]
if (missing.length === 0) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (isRoot && existsSync('/usr/bin/apt-get')) {
  console.log(
    `[ensure-servers] installing Debian ${missing.join(' and ')} for the API tests (apt-get)…`,
  )
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // Install only: the packages' own services (a cluster on 5432, Redis on 6379) are not
  // started (policy-rc.d answers "not allowed"); the tests run servers of their own.
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !existsSync(policy)
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  } finally {
    if (ownPolicy) rmSync(policy, { force: true })
  }
  if (hasPostgres() && hasRedis()) process.exit(0)
}
console.error(
  `[ensure-servers] missing: ${missing.join(', ')}. Install Debian's packages ` +
    `(sudo apt-get install -y ${missing.join(' ')}), or set ACTAS_POSTGRES_BIN (a directory ` +
    'with initdb and postgres) and ACTAS_REDIS_SERVER (a redis-server binary).',
)
process.exit(1)
