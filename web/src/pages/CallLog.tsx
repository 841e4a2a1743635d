// The call log: filters in the URL, newest first, cursor pages, and the "Pixels Fired" column.
import { useQuery } from 'urql'
import { Link, useSearchParams } from 'wouter'
import { CallsQuery } from './callQueries.ts'
import { Badge } from '../ui/Badge.tsx'
import { type FilterField, FilterForm, filterProblems } from '../ui/Filters.tsx'
import { Pager, pageArgs } from '../ui/Pager.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { Time } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { campaignChoice, unlistedCampaign, useCampaignChoices } from './queries.ts'

const STATUSES = [
  ['STARTED', 'Started'],
  ['ANSWERED', 'Answered'],
  ['ENDED', 'Ended'],
] as const

export function CallLog() {
  usePageTitle('Calls')
  const [params] = useSearchParams()
  const campaigns = useCampaignChoices()
  const filter = {
    campaignId: params.get('campaign'),
    status: params.get('status') as 'STARTED' | 'ANSWERED' | 'ENDED' | null,
    callerNumber: params.get('caller'),
    startedAfter: params.get('from'),
    startedBefore: params.get('to'),
  }
  const fields: FilterField[] = [
    { name: 'campaign', label: 'Campaign', kind: 'select', options: campaigns.campaigns.map(campaignChoice), hint: campaigns.hint, unlisted: unlistedCampaign },
    { name: 'status', label: 'Status', kind: 'select', options: STATUSES },
    { name: 'caller', label: 'Caller number', kind: 'text', placeholder: '+14155550100' },
    { name: 'from', label: 'Started from', kind: 'time' },
    { name: 'to', label: 'Started before', kind: 'time' },
  ]
  const unreadable = filterProblems(params, fields).length > 0
  const [calls] = useQuery({ query: CallsQuery, variables: { ...pageArgs(params), filter }, pause: unreadable })
  const rows = calls.data?.calls.edges.map((e) => e.node) ?? []

  return (
    <section className="page">
      <h1>Calls</h1>
      <p className="lede">Newest first. Open a call to see its timeline, its tags and why each webhook fired or did not.</p>
      <FilterForm label="Filter calls" fields={fields} />
      <ErrorNote error={calls.error} />
      {unreadable ? null : calls.fetching && !calls.data ? (
        <Loading what="Loading calls" />
      ) : rows.length === 0 && !calls.error ? (
        <Empty>No calls match. Calls appear here as telephony reports them (POST /call-events or startCall).</Empty>
      ) : (
        <div className="table-wrap">
          <table className="log calls">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Caller</th>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Pixels Fired</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td data-label="Started">
                    <Link href={`/calls/${encodeURIComponent(c.uuid)}`} className="rowlink">
                      <Time at={c.startedAt} />
                    </Link>
                  </td>
                  <td data-label="Caller" className="mono">
                    <Link href={`/calls/${encodeURIComponent(c.uuid)}`}>{c.callerNumber}</Link>
                  </td>
                  <td data-label="Campaign">{c.campaign.name}</td>
                  <td data-label="Status">
                    <Badge value={c.status} /> {c.converted && <Badge tone="ok">converted</Badge>}
                  </td>
                  <td data-label="Duration">{c.durationSeconds == null ? <span className="muted">—</span> : `${c.durationSeconds} s`}</td>
                  <td data-label="Pixels Fired">
                    <PixelsFired summary={c.pixelSummary} pixels={c.pixels} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!unreadable && <Pager pageInfo={calls.data?.calls.pageInfo} label="Call log" />}
    </section>
  )
}

type Summary = { count: number; succeeded: number; failed: number; pending: number; cancelled: number }
type FiredPixel = { id: string; status: string; trigger: string; webhook: { name: string } }

/** Count and status at a glance; each pixel links to its overview. */
function PixelsFired({ summary, pixels }: { summary: Summary; pixels: FiredPixel[] }) {
  if (summary.count === 0) return <span className="muted">none</span>
  const words = [
    summary.succeeded && `${summary.succeeded} succeeded`,
    summary.failed && `${summary.failed} failed`,
    summary.pending && `${summary.pending} pending`,
    summary.cancelled && `${summary.cancelled} cancelled`,
  ].filter(Boolean)
  return (
    <div className="fired">
      <span className="fired-count">
        {summary.count} <span className="sr-only">pixels:</span>
      </span>
      <span className="fired-words">{words.join(', ')}</span>
      <span className="chips">
        {pixels.map((p) => (
          <Link key={p.id} href={`/pixels/${p.id}`} className={`chip ${p.status.toLowerCase()}`} title={`${p.webhook.name} (${p.trigger}): ${p.status}`}>
            <span className="sr-only">
              {p.webhook.name}: {p.status}
            </span>
          </Link>
        ))}
      </span>
    </div>
  )
}
