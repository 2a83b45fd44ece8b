// `GET /v1/organizations/{organization_id}`: one organization by id or slug, as Clerk's spec
// says ("The ID or slug of the organization"). ActAs resolves the slugs in STAFF_ORGANIZATIONS
// with it.
import { json, type Router } from '../http.js'
import type { ClerkState } from '../state.js'
import { notFound } from './errors.js'
import { organizationJson } from './serialize.js'

export function organizationRoutes(router: Router, state: ClerkState): void {
  router.add('GET', '/v1/organizations/:organization_id', (req) => {
    const key = req.params.organization_id ?? ''
    const org =
      state.organizations.get(key) ?? [...state.organizations.values()].find((o) => o.slug === key)
    return org ? json(organizationJson(state, org)) : notFound('Organization not found').response
  })
}
