// The support access page: the host kit's <actas-customer-access> (ActAs's customer.* procedures
// with this page's Clerk session), reached through this origin's /actas-api proxy to the ActAs
// API (vite.config.ts). Staff acting as the customer see it refused: only the customer decides.
import '@actas/host-kit/customer-access-element'
import { boot } from './boot.ts'

const page = await boot()
if (page.clerk.session) {
  const access = document.createElement('actas-customer-access')
  access.setAttribute('api-url', `${location.origin}/actas-api/trpc`)
  document.getElementById('access')?.replaceWith(access)
}
