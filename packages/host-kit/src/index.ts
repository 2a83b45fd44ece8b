// @actas/host-kit: for the application staff impersonate into. The Vue component, and the
// pieces it is made of; `@actas/host-kit/element` registers the custom element.
export { ActAsBanner, STATUS_INTERVAL_MS, bannerCss } from './banner.js'
export { readSessionToken } from './act.js'
export type { ActorClaim, SessionClaims } from './act.js'
export { followEnds } from './ended-stream.js'
export type { EndedNews, FollowEndsOptions } from './ended-stream.js'
export { consoleReturnUrl } from './return.js'
export { clerkSession } from './session.js'
export type { ClerkLike, HostSession } from './session.js'
export { askStatus } from './status.js'
export type { StatusAnswer, StatusOptions } from './status.js'
export { formatRemaining, modeLabel } from './words.js'
export {
  ACCESS_INTERVAL_MS,
  ActAsCustomerAccess,
  customerAccessCss,
  formatDuration,
} from './customer-access.js'
