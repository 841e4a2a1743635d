// Webhooks by campaign: the campaigns a page at a time (/webhooks), and one campaign's webhooks with their trigger, endpoint,
// circuit and state (/campaigns/:id).
import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { Link, useLocation, useSearchParams } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { Pager, pageArgs } from '../ui/Pager.tsx'
import { Empty, ErrorNote, Loading } from '../ui/States.tsx'
import { Time, WithTimes } from '../ui/Time.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { plural, triggerWords } from '../ui/words.ts'
import { CampaignsQuery } from './queries.ts'

const CampaignQuery = graphql(`
  query CampaignWebhooks($id: ID!) {
    campaign(id: $id) {
      id
      name
      archivedAt
      webhooks {
        id
        name
        trigger
        timerSeconds
        method
        url
        enabled
        circuitState
        circuitReason
        updatedAt
        matches {
          conditions {
            key
          }
        }
      }
    }
  }
`)

const CreateCampaign = graphql(`
  mutation CreateCampaign($name: String!) {
    createCampaign(input: { name: $name }) {
      id
    }
  }
`)

export function Campaigns({ campaignId }: { campaignId?: string }) {
  return campaignId ? <CampaignWebhooks id={campaignId} /> : <CampaignList />
}

function CampaignList() {
  usePageTitle('Webhooks')
  const [params] = useSearchParams()
  const [result] = useQuery({ query: CampaignsQuery, variables: pageArgs(params) })
  const [created, create] = useMutation(CreateCampaign)
  const [name, setName] = useState('')
  const [, navigate] = useLocation()
  const campaigns = result.data?.campaigns.edges.map((e) => e.node) ?? []
  return (
    <section className="page">
      <h1>Webhooks</h1>
      <p className="lede">Each campaign's webhooks: what they send, when, and how their endpoints are doing.</p>
      <ErrorNote error={result.error} />
      {result.fetching && !result.data ? (
        <Loading what="Loading campaigns" />
      ) : campaigns.length === 0 ? (
        <Empty>No campaigns yet. Create one below, then add its webhooks.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="log">
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Webhooks</th>
                <th scope="col">Circuits</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {campaigns.map((c) => {
                const troubled = c.webhooks.filter((w) => w.circuitState !== 'CLOSED').length
                return (
                  <tr key={c.id}>
                    <td data-label="Campaign">
                      <Link href={`/campaigns/${c.id}`}>{c.name}</Link> {c.archivedAt && <Badge tone="muted">archived</Badge>}
                    </td>
                    <td data-label="Webhooks">{plural(c.webhooks.length, 'webhook')}</td>
                    <td data-label="Circuits">
                      {c.webhooks.length === 0 ? (
                        <span className="muted">—</span>
                      ) : troubled ? (
                        <Badge tone="bad">{troubled} not closed</Badge>
                      ) : (
                        <Badge tone="ok">all closed</Badge>
                      )}
                    </td>
                    <td data-label="Created">
                      <Time at={c.createdAt} />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pager pageInfo={result.data?.campaigns.pageInfo} label="Campaigns" />
      <form
        className="filters"
        style={{ marginTop: '1rem' }}
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await create({ name: name.trim() })
          if (r.data) navigate(`/campaigns/${r.data.createCampaign.id}`)
        }}
      >
        <div className="field">
          <label htmlFor="new-campaign">New campaign</label>
          <input id="new-campaign" value={name} onChange={(e) => setName(e.target.value)} placeholder="Auto insurance" required />
        </div>
        <div className="actions">
          <button type="submit" disabled={created.fetching}>
            Create campaign
          </button>
        </div>
      </form>
      <ErrorNote error={created.error} />
    </section>
  )
}

function CampaignWebhooks({ id }: { id: string }) {
  const [result] = useQuery({ query: CampaignQuery, variables: { id } })
  const campaign = result.data?.campaign
  usePageTitle(campaign ? `${campaign.name} webhooks` : 'Webhooks')
  if (result.fetching && !campaign) return <Loading what="Loading the campaign" />
  if (!campaign)
    return (
      <section className="page">
        <h1>Campaign</h1>
        <ErrorNote error={result.error ?? 'No such campaign.'} />
      </section>
    )
  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/webhooks">Webhooks</Link> / {campaign.name}
      </p>
      <div className="heading-row">
        <div>
          <h1>{campaign.name}</h1>
          <p className="lede">
            {plural(campaign.webhooks.length, 'webhook')}. <Link href={`/calls?campaign=${campaign.id}`}>Its calls</Link>
          </p>
        </div>
        <div className="toolbar">
          <Link href={`/campaigns/${campaign.id}/webhooks/new`} className="button">
            New webhook
          </Link>
        </div>
      </div>
      {campaign.webhooks.length === 0 ? (
        <Empty>This campaign has no webhooks yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="log">
            <thead>
              <tr>
                <th scope="col">Webhook</th>
                <th scope="col">Trigger</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Matches</th>
                <th scope="col">Circuit</th>
              </tr>
            </thead>
            <tbody>
              {campaign.webhooks.map((w) => {
                const conditions = w.matches.reduce((n, g) => n + g.conditions.length, 0)
                return (
                  <tr key={w.id}>
                    <td data-label="Webhook">
                      <Link href={`/webhooks/${w.id}`}>{w.name}</Link> {!w.enabled && <Badge tone="muted">disabled</Badge>}
                    </td>
                    <td data-label="Trigger">
                      {triggerWords(w.trigger)}
                      {w.trigger === 'TIMER' && w.timerSeconds != null && ` (${w.timerSeconds} s)`}
                    </td>
                    <td data-label="Endpoint" className="mono break">
                      {w.method} {w.url}
                    </td>
                    <td data-label="Matches">{conditions ? plural(conditions, 'condition') : <span className="muted">every call</span>}</td>
                    <td data-label="Circuit">
                      <Badge value={w.circuitState} />{' '}
                      {w.circuitState !== 'CLOSED' && w.circuitReason && (
                        <span className="muted">
                          <WithTimes text={w.circuitReason} />
                        </span>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
