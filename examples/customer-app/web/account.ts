// The account page: a password change, which the service refuses to any impersonation.
import { boot, errorMessage, showResult } from './boot.ts'

const page = await boot()

document.getElementById('password-form')!.addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const password = form.querySelector<HTMLInputElement>('#password')?.value ?? ''
  void page.call('POST', '/account/password', { password }).then(({ status, body }) => {
    if (status === 204) {
      showResult('password-result', 'Password changed.', false)
      form.reset()
    } else showResult('password-result', errorMessage(body, 'The password was not changed.'), true)
  })
})
