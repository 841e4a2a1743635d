// The postback log: filters in the URL, each postback's payload as received beside the tags made of it,
// problems highlighted, refused postbacks included. /postbacks/:id shows one.
import { useQuery } from 'urql'
import { Link, useSearchParams } from 'wouter'
import { graphql, type ResultOf } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { prettyJson } from '../ui/Code.tsx'
import { type FilterField, FilterForm, filterProblems } from '../ui/Filters.tsx'
import { Pager, pageArgs } from '../ui/Pager.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { Time } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { KeyValues } from '../ui/KeyValues.tsx'
import { OUTCOME_WORDS } from '../ui/words.ts'
import { campaignChoice, unlistedCampaign, useCampaignChoices } from './queries.ts'

const PostbackFields = graphql(`
  fragment PostbackFields on Postback @_unmask {
    id
    createdAt
    outcome
    httpStatus
    channel
    contentType
    rawBody
    tags
    callerNumber
    response
    problems {
      code
      field
      message
    }
    apiKey {
      id
      name
      prefix
    }
    campaign {
      id
      name
    }
    call {
      uuid
    }
  }
`)

const PostbacksQuery = graphql(
  `
  query PostbackLog($first: Int, $after: String, $last: Int, $before: String, $filter: PostbackFilter) {
    postbacks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      edges {
        node {
          ...PostbackFields
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`,
  [PostbackFields],
)

const PostbackQuery = graphql(
  `
  query PostbackOne($id: ID!) {
    postback(id: $id) {
      ...PostbackFields
    }
  }
`,
  [PostbackFields],
)

const KeysQuery = graphql(`
  query PublisherKeys {
    apiKeys {
      id
      name
      role
      prefix
      revokedAt
    }
  }
`)

type Postback = ResultOf<typeof PostbackFields>

const OUTCOMES = Object.entries(OUTCOME_WORDS) as [string, string][]

export function PostbackLog({ id }: { id?: string }) {
  return id ? <OnePostback id={id} /> : <Log />
}

function Log() {
  usePageTitle('Postbacks')
  const [params] = useSearchParams()
  const campaigns = useCampaignChoices()
  const [keys] = useQuery({ query: KeysQuery })
  const filter = {
    outcome: params.get('outcome') as 'CALL_FOUND' | 'COMPLETED_CALL_FOUND' | 'TAGS_STORED' | 'REJECTED' | null,
    callerNumber: params.get('caller'),
    apiKeyId: params.get('key'),
    campaignId: params.get('campaign'),
    receivedAfter: params.get('from'),
    receivedBefore: params.get('to'),
  }
  const keyOptions = (keys.data?.apiKeys ?? [])
    .filter((k) => k.role === 'PUBLISHER')
    .map((k) => [k.id, `${k.name} (${k.prefix}…)${k.revokedAt ? ', revoked' : ''}`] as const)
  const fields: FilterField[] = [
    { name: 'outcome', label: 'Outcome', kind: 'select', options: OUTCOMES },
    { name: 'caller', label: 'Caller number', kind: 'text', placeholder: '+14155550100' },
    { name: 'key', label: 'Publisher key', kind: 'select', options: keyOptions, unlisted: (id) => `key ${id}` },
    { name: 'campaign', label: 'Campaign', kind: 'select', options: campaigns.campaigns.map(campaignChoice), hint: campaigns.hint, unlisted: unlistedCampaign },
    { name: 'from', label: 'Received from', kind: 'time' },
    { name: 'to', label: 'Received before', kind: 'time' },
  ]
  const unreadable = filterProblems(params, fields).length > 0
  const [result] = useQuery({ query: PostbacksQuery, variables: { ...pageArgs(params), filter }, pause: unreadable })
  const rows = result.data?.postbacks.edges.map((e) => e.node) ?? []

  return (
    <section className="page">
      <h1>Postbacks</h1>
      <p className="lede">Every postback publishers sent, newest first, as received: refused ones too, with what was wrong.</p>
      <FilterForm label="Filter postbacks" fields={fields} />
      <ErrorNote error={result.error} />
      {unreadable ? null : result.fetching && !result.data ? (
        <Loading what="Loading postbacks" />
      ) : rows.length === 0 && !result.error ? (
        <Empty>No postbacks match. Publishers send them to /postback with a publisher key.</Empty>
      ) : (
        rows.map((p) => <PostbackCard key={p.id} postback={p} />)
      )}
      {!unreadable && <Pager pageInfo={result.data?.postbacks.pageInfo} label="Postback log" />}
    </section>
  )
}

function OnePostback({ id }: { id: string }) {
  usePageTitle(`Postback ${id}`)
  const [result] = useQuery({ query: PostbackQuery, variables: { id } })
  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/postbacks">Postbacks</Link> / <span className="mono">{id}</span>
      </p>
      <h1>Postback</h1>
      <ErrorNote error={result.error} />
      {result.fetching && !result.data ? <Loading what="Loading the postback" /> : result.data?.postback && <PostbackCard postback={result.data.postback} />}
    </section>
  )
}

/** The raw payload as a person reads it: JSON pretty-printed, a query string one field a line. */
function prettyPayload(p: Postback): string {
  const json = prettyJson(p.rawBody)
  if (json) return json
  if (p.channel === 'REST_GET' || p.contentType?.includes('x-www-form-urlencoded')) {
    try {
      return [...new URLSearchParams(p.rawBody)].map(([k, v]) => `${k} = ${v}`).join('\n')
    } catch {
      return p.rawBody
    }
  }
  return p.rawBody
}

function PostbackCard({ postback: p }: { postback: Postback }) {
  const refused = p.outcome === 'REJECTED'
  const tags = Object.entries((p.tags as Record<string, string> | null) ?? {})
  const answer = (p.response as { status?: string; error?: string } | null) ?? null
  return (
    <article className={`postback${refused ? ' rejected' : ''}`} aria-label={`postback ${p.id}`}>
      <header className="postback-head">
        <Link href={`/postbacks/${p.id}`}>
          <Time at={p.createdAt} />
        </Link>{' '}
        <Badge value={p.outcome}>{OUTCOME_WORDS[p.outcome] ?? p.outcome}</Badge> <span className="muted">HTTP {p.httpStatus}</span>
        <span className="muted">
          {' '}
          · {p.channel.replace('_', ' ')} · key {p.apiKey.name} ({p.apiKey.prefix}…)
          {p.campaign && <> · {p.campaign.name}</>}
        </span>
        {p.callerNumber && (
          <>
            {' '}
            · <span className="mono">{p.callerNumber}</span>
          </>
        )}
        {p.call && (
          <>
            {' '}
            · call <Link href={`/calls/${encodeURIComponent(p.call.uuid)}`}>{p.call.uuid}</Link>
          </>
        )}
      </header>
      {p.problems.length > 0 && (
        <ul className="problems" aria-label="problems">
          {p.problems.map((x) => (
            <li key={`${x.code}-${x.field}-${x.message}`} className={refused ? '' : 'note'}>
              <strong>{x.code.replaceAll('_', ' ').toLowerCase()}</strong>
              {x.field && (
                <>
                  {' '}
                  (<span className="mono">{x.field}</span>)
                </>
              )}
              : {x.message}
            </li>
          ))}
        </ul>
      )}
      <div className="grid2">
        <div>
          <h3>Payload as received{p.contentType && <span className="muted"> ({p.contentType})</span>}</h3>
          {p.rawBody ? (
            <pre className="code" data-label="raw payload">
              {prettyPayload(p)}
            </pre>
          ) : (
            <p className="muted">(empty body)</p>
          )}
        </div>
        <div>
          <h3>Tags parsed</h3>
          {tags.length === 0 ? <p className="muted">{refused ? 'None: the postback was refused.' : 'No tags.'}</p> : <KeyValues pairs={tags} />}
          {answer && <p className="hint">Answered: “{answer.error ?? answer.status}”</p>}
        </div>
      </div>
    </article>
  )
}
