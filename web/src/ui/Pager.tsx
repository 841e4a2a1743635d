// Cursor paging kept in the URL (?after= / ?before=), so a page of a log is a link too.
import { useSearchParams } from 'wouter'

export interface PageInfo {
  hasNextPage: boolean
  hasPreviousPage: boolean
  startCursor?: string | null
  endCursor?: string | null
}

export const PAGE_SIZE = 50

/** first/after or last/before from the URL. */
export function pageArgs(params: URLSearchParams) {
  const before = params.get('before')
  if (before) return { last: PAGE_SIZE, before }
  return { first: PAGE_SIZE, after: params.get('after') }
}

export function Pager({ pageInfo, label }: { pageInfo: PageInfo | undefined; label: string }) {
  const [params, setParams] = useSearchParams()
  if (!pageInfo) return null
  const backwards = params.has('before')
  const onFirstPage = !params.has('after') && !params.has('before')
  const newer = backwards ? pageInfo.hasPreviousPage : !onFirstPage
  const older = backwards ? true : pageInfo.hasNextPage
  const go = (key: 'after' | 'before', cursor: string | null | undefined) =>
    setParams((p) => {
      p.delete('after')
      p.delete('before')
      if (cursor) p.set(key, cursor)
      return p
    })
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="secondary" disabled={onFirstPage} onClick={() => go('after', null)}>
        Newest
      </button>
      <button type="button" className="secondary" disabled={!newer} onClick={() => go('before', pageInfo.startCursor)}>
        ← Newer
      </button>
      <button type="button" className="secondary" disabled={!older} onClick={() => go('after', pageInfo.endCursor)}>
        Older →
      </button>
    </nav>
  )
}
