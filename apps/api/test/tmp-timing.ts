import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
let t = performance.now()
const lap = (s: string) => { const n = performance.now(); console.log(s, (n - t).toFixed(0)); t = n }
const a = await PGlite.create(); lap('create')
await migrate(drizzle({ client: a }), { migrationsFolder: 'drizzle' }); lap('migrate')
const dump = await a.dumpDataDir('gzip'); lap('dump gz ' + dump.size)
const dump2 = await a.dumpDataDir('none'); lap('dump none ' + dump2.size)
const b = await PGlite.create({ loadDataDir: dump }); lap('create from gz')
const c = await PGlite.create({ loadDataDir: dump2 }); lap('create from none')
const b2 = await PGlite.create({ loadDataDir: dump }); lap('create from gz')
const c2 = await PGlite.create({ loadDataDir: dump2 }); lap('create from none')
