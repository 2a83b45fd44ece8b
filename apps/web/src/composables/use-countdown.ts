import { onBeforeUnmount, onMounted, ref } from 'vue'
import type { Ref } from 'vue'

/**
 * Whole seconds left of a wait, counted down once a second from mount; `onZero` runs once when it
 * reaches 0 (not at all when it starts at 0). Stops when the component unmounts.
 */
export function useCountdown(seconds: number, onZero: () => void): Ref<number> {
  const left = ref(Math.max(0, Math.ceil(seconds)))
  let timer: ReturnType<typeof setInterval> | undefined
  const stop = () => {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
  onMounted(() => {
    if (left.value === 0) return
    timer = setInterval(() => {
      left.value = Math.max(0, left.value - 1)
      if (left.value === 0) {
        stop()
        onZero()
      }
    }, 1000)
  })
  onBeforeUnmount(stop)
  return left
}
