// The orders page: the customer's orders, and a new order (refused to a read-only impersonation).
import { boot, errorMessage, showResult } from './boot.ts'

interface Order {
  id: string
  item: string
  quantity: number
  createdAt: string
}

const page = await boot()

async function loadOrders(): Promise<void> {
  if (!page.clerk.session) return
  const { status, body } = await page.call('GET', '/orders')
  const list = document.getElementById('orders')!
  if (status !== 200) {
    list.replaceChildren()
    showResult('order-result', errorMessage(body, 'Your orders could not be loaded.'), true)
    return
  }
  const items = (body as { items: Order[] }).items
  list.replaceChildren(
    ...items.map((o) => {
      const li = document.createElement('li')
      li.textContent = `${o.quantity} × ${o.item}`
      return li
    }),
  )
  document.getElementById('orders-empty')!.hidden = items.length > 0
}

document.getElementById('new-order')!.addEventListener('submit', (event) => {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  void page
    .call('POST', '/orders', {
      item: form.querySelector<HTMLInputElement>('#item')?.value ?? '',
      quantity: Number(form.querySelector<HTMLInputElement>('#quantity')?.value ?? 1),
    })
    .then(async ({ status, body }) => {
      if (status === 201) {
        showResult('order-result', 'Order placed.', false)
        form.reset()
        await loadOrders()
      } else showResult('order-result', errorMessage(body, 'The order was not placed.'), true)
    })
})

await loadOrders()
