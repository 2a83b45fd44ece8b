// Routes and guards. Guards wait for clerk-js to load, then decide from the session store:
// signed out → sign-in; staff pages need the API's word that this session may impersonate.
import type { Pinia } from 'pinia'
import { watchEffect } from 'vue'
import { createRouter, createWebHistory } from 'vue-router'
import type { Router } from 'vue-router'
import { CONSOLE_RETURN_PATH } from '@actas/contracts/facts'
import type { Auth } from './auth/types'
import { safeRedirectPath } from './lib/safe-redirect'
import { useSessionStore } from './stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable signed out. */
    public?: boolean
    /** Needs the impersonate permission. */
    staff?: boolean
    title?: string
  }
}

export function createAppRouter(base: string): Router {
  return createRouter({
    history: createWebHistory(base),
    routes: [
      {
        path: '/',
        name: 'home',
        component: () => import('./views/HomeView.vue'),
        meta: { title: 'Home' },
      },
      {
        path: '/sign-in',
        name: 'sign-in',
        component: () => import('./views/SignInView.vue'),
        meta: { public: true, title: 'Sign in' },
      },
      {
        path: '/users',
        name: 'users',
        component: () => import('./views/UsersView.vue'),
        meta: { staff: true, title: 'Users' },
      },
      {
        path: '/active',
        name: 'active',
        component: () => import('./views/ActiveView.vue'),
        meta: { staff: true, title: 'Active now' },
      },
      {
        path: '/audit',
        name: 'audit',
        component: () => import('./views/AuditView.vue'),
        meta: { staff: true, title: 'Audit log' },
      },
      {
        // Stop from the host application (@actas/host-kit): ends the impersonation and signs
        // the staff member back in with this tab's return secret. Public: after an end elsewhere
        // the tab comes back signed out, and the page says so on the way to the sign-in page.
        path: CONSOLE_RETURN_PATH,
        name: 'return',
        component: () => import('./views/ReturnView.vue'),
        meta: { public: true, title: 'Returning to the console' },
      },
      {
        path: '/no-access',
        name: 'no-access',
        component: () => import('./views/NoAccessView.vue'),
        meta: { title: 'No access' },
      },
      {
        path: '/:pathMatch(.*)*',
        name: 'not-found',
        component: () => import('./views/NotFoundView.vue'),
        meta: { public: true, title: 'Not found' },
      },
    ],
  })
}

export function installGuards(router: Router, auth: Auth, pinia: Pinia): void {
  router.beforeEach(async (to) => {
    try {
      await auth.whenLoaded()
    } catch {
      return to.name === 'sign-in' ? true : { name: 'sign-in' }
    }
    const session = useSessionStore(pinia)
    if (to.name === 'sign-in' && session.signedIn) {
      await session.loadMe()
      const fallback = session.canImpersonate ? '/users' : '/'
      return safeRedirectPath(to.query['redirect'], window.location.origin, fallback)
    }
    if (to.meta.public) return true
    if (!session.signedIn) {
      return { name: 'sign-in', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (to.meta.staff) {
      await session.loadMe()
      if (!session.canImpersonate) return { name: 'no-access', query: { from: to.fullPath } }
    }
    return true
  })
  // The tab says which page this is, and whom you are acting as while impersonating.
  const session = useSessionStore(pinia)
  watchEffect(() => {
    document.title = pageTitle(
      router.currentRoute.value.meta.title,
      session.actor ? (session.user?.fullName ?? session.user?.primaryEmail ?? 'a user') : null,
    )
  })
}

export function pageTitle(page: string | undefined, actingAs: string | null): string {
  return [actingAs ? `Acting as ${actingAs}` : null, page, 'ActAs'].filter(Boolean).join(' · ')
}
