// Step-up: when the API answers a call with Clerk's reverification hint (403
// REVERIFICATION_REQUIRED, e.g. impersonation.start with a password older than the API's
// STEP_UP_MINUTES), `run` asks for the password in the reverify dialog (ReverifyDialog.vue,
// mounted once in App.vue), has Clerk verify it (Auth.reverifyWithPassword: clerk-js's
// startVerification / attemptFirstFactorVerification), then makes the same call again by
// itself. Cancel rejects with StepUpCancelled. The password never leaves the dialog and Clerk.
import type { ReverificationRequirement } from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AuthError, useAuth } from '../auth/types'
import { ApiError } from './api'

/** The person cancelled the password check: the call was not made. */
export class StepUpCancelled extends Error {
  override readonly name = 'StepUpCancelled'
}

/** The reverification the API asks for, or null when `error` is not a step-up request. */
export function stepUpRequirement(error: unknown): ReverificationRequirement | null {
  if (!(error instanceof ApiError) || error.info.code !== 'REVERIFICATION_REQUIRED') return null
  return error.info.reverification ?? { level: 'first_factor', afterMinutes: 10 }
}

export const useStepUpStore = defineStore('step-up', () => {
  const auth = useAuth()
  /** The open request (the dialog shows while it is set). */
  const requirement = shallowRef<ReverificationRequirement | null>(null)
  const verifying = ref(false)
  const error = ref<string | null>(null)
  let settle: ((verified: boolean) => void) | null = null

  function ask(needed: ReverificationRequirement): Promise<boolean> {
    // One request at a time: a second caller waits on the same answer.
    settle?.(false)
    requirement.value = needed
    error.value = null
    return new Promise<boolean>((resolve) => {
      settle = resolve
    })
  }

  function finish(verified: boolean): void {
    const done = settle
    settle = null
    requirement.value = null
    error.value = null
    verifying.value = false
    done?.(verified)
  }

  /** Verifies the password with Clerk; on success the waiting call goes on by itself. */
  async function verify(password: string): Promise<void> {
    if (!requirement.value || verifying.value) return
    if (!password) {
      error.value = 'Enter your password.'
      return
    }
    verifying.value = true
    error.value = null
    try {
      await auth.reverifyWithPassword(password)
      finish(true)
    } catch (caught) {
      verifying.value = false
      error.value =
        caught instanceof AuthError
          ? caught.message
          : 'Clerk could not check the password. Try again.'
    }
  }

  function cancel(): void {
    if (verifying.value) return
    finish(false)
  }

  /**
   * `call()`; when the API asks for a reverification, the password dialog, then `call()` once
   * more. Rejects with StepUpCancelled when the person cancels, else with the call's error.
   */
  async function run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (caught) {
      const needed = stepUpRequirement(caught)
      if (!needed) throw caught
      if (!(await ask(needed)))
        throw new StepUpCancelled('Confirming your password was cancelled, so nothing was started.')
      return await call()
    }
  }

  return { requirement, verifying, error, verify, cancel, run }
})
