// `<actas-banner console-url="https://support.example.com" status-url="/actas/session">`: the
// banner as a framework-free custom element (Vue's `defineCustomElement`, CSS in its shadow
// root). Importing this module registers it (once). The `ended` event fires when ActAs ended the
// impersonation (`event.detail[0]`: its id). The `session` property takes any HostSession;
// default: clerk-js (`window.Clerk`).
import { defineCustomElement } from 'vue'
import { ActAsBannerForElement, bannerCss } from './banner.js'

export const ActAsBannerElement = defineCustomElement(ActAsBannerForElement, {
  styles: [bannerCss],
})

export const ACTAS_BANNER_TAG = 'actas-banner'

export function registerActAsBanner(tag = ACTAS_BANNER_TAG): void {
  if (!customElements.get(tag)) customElements.define(tag, ActAsBannerElement)
}

registerActAsBanner()
