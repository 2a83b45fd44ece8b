// `<actas-customer-access api-url="https://actas.example.com/trpc">`: the customer's side of
// ActAs access requests as a framework-free custom element (CSS in its shadow root). Importing
// this module registers it (once). The `changed` event fires after each decision, grant or
// revoke (`event.detail[0]`: the access record). The `session` property takes any HostSession;
// default: clerk-js (`window.Clerk`).
import { defineCustomElement } from 'vue'
import { ActAsCustomerAccessForElement, customerAccessCss } from './customer-access.js'

export const ActAsCustomerAccessElement = defineCustomElement(ActAsCustomerAccessForElement, {
  styles: [customerAccessCss],
})

export const ACTAS_CUSTOMER_ACCESS_TAG = 'actas-customer-access'

export function registerActAsCustomerAccess(tag = ACTAS_CUSTOMER_ACCESS_TAG): void {
  if (!customElements.get(tag)) customElements.define(tag, ActAsCustomerAccessElement)
}

registerActAsCustomerAccess()
