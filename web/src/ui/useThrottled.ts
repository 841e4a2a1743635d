import { useEffect, useMemo, useRef } from 'react'

/** `fn` at most once per `ms`: calls in between are folded into one at the end of the wait. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const latest = useRef(fn)
  latest.current = fn
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null)
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current)
    },
    [],
  )
  return useMemo(
    () => () => {
      if (timer.current) return
      timer.current = setTimeout(() => {
        timer.current = null
        latest.current()
      }, ms)
    },
    [ms],
  )
}
