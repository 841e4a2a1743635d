import { useEffect } from 'react'

/** Sets the tab's title for a page. */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Ringhook`
  }, [title])
}
