// Loaded on the first API call (its own chunk): the typed client from @actas/contracts and
// its error reader. Kept out of the first route's JS.
export { createActAsClient, getActAsError } from '@actas/contracts/client'
