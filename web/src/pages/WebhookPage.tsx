// One webhook: its health and circuit (with Re-enable), its settings form, test fire, and bulk replay, as
// tabs kept in the URL (?tab=). /campaigns/:id/webhooks/new creates one.
import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { Link, useLocation, useSearchParams } from 'wouter'
import { graphql } from '../graphql.ts'
import { Badge } from '../ui/Badge.tsx'
import { ErrorNote, Loading } from '../ui/States.tsx'
import { usePageTitle } from '../ui/usePageTitle.ts'
import { triggerWords } from '../ui/words.ts'
import { HealthPanel } from './HealthPanel.tsx'
import { ReplayPanel } from './ReplayPanel.tsx'
import { TestFire } from './TestFire.tsx'
import { focusFirstError, type WebhookValues, WebhookForm, WebhookSettingsFields } from './WebhookForm.tsx'

const WebhookQuery = graphql(
  `
  query WebhookSettings($id: ID!) {
    webhook(id: $id) {
      id
      ...WebhookSettingsFields
      warnings
      circuitState
      updatedAt
      campaign {
        id
        name
      }
    }
  }
`,
  [WebhookSettingsFields],
)

const CampaignNameQuery = graphql(`
  query CampaignName($id: ID!) {
    campaign(id: $id) {
      id
      name
    }
  }
`)

const CreateWebhook = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      id
    }
  }
`)

const UpdateWebhook = graphql(`
  mutation UpdateWebhook($input: UpdateWebhookInput!) {
    updateWebhook(input: $input) {
      id
      updatedAt
      warnings
    }
  }
`)

const TABS = [
  ['health', 'Health and circuit'],
  ['settings', 'Settings'],
  ['test', 'Test fire'],
  ['replay', 'Replay'],
] as const

export function WebhookPage({ id, campaignId }: { id?: string; campaignId?: string }) {
  return id ? <ExistingWebhook id={id} /> : <NewWebhook campaignId={campaignId!} />
}

function NewWebhook({ campaignId }: { campaignId: string }) {
  usePageTitle('New webhook')
  const [campaign] = useQuery({ query: CampaignNameQuery, variables: { id: campaignId } })
  const [created, create] = useMutation(CreateWebhook)
  const [, navigate] = useLocation()
  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/webhooks">Webhooks</Link> / <Link href={`/campaigns/${campaignId}`}>{campaign.data?.campaign.name ?? 'campaign'}</Link> / new
      </p>
      <h1>New webhook</h1>
      <ErrorNote error={campaign.error} />
      <WebhookForm
        initial={null}
        saving={created.fetching}
        error={created.error}
        onSubmit={async (input) => {
          const r = await create({ input: { ...input, campaignId } as never })
          if (r.data) navigate(`/webhooks/${r.data.createWebhook.id}?tab=settings`)
          else focusFirstError()
        }}
      />
    </section>
  )
}

function ExistingWebhook({ id }: { id: string }) {
  const [result] = useQuery({ query: WebhookQuery, variables: { id } })
  const [params] = useSearchParams()
  const tab = params.get('tab') ?? 'health'
  const [saved, setSaved] = useState<string | null>(null)
  const webhook = result.data?.webhook
  usePageTitle(webhook ? `Webhook ${webhook.name}` : 'Webhook')
  if (result.fetching && !webhook) return <Loading what="Loading the webhook" />
  if (!webhook)
    return (
      <section className="page">
        <h1>Webhook</h1>
        <ErrorNote error={result.error ?? 'No such webhook.'} />
      </section>
    )
  return (
    <section className="page">
      <p className="crumbs">
        <Link href="/webhooks">Webhooks</Link> / <Link href={`/campaigns/${webhook.campaign.id}`}>{webhook.campaign.name}</Link> / {webhook.name}
      </p>
      <h1>
        {webhook.name} <Badge value={webhook.circuitState} /> {!webhook.enabled && <Badge tone="muted">disabled</Badge>}
      </h1>
      <p className="lede">
        On {triggerWords(webhook.trigger)}:{' '}
        <span className="mono break">
          {webhook.method} {webhook.url}
        </span>
      </p>
      <nav className="tabs" aria-label="Webhook">
        {TABS.map(([key, label]) => (
          <Link key={key} href={`/webhooks/${id}?tab=${key}`} aria-current={tab === key ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === 'settings' ? (
        // read again after a save: the form starts from what the API stored (the notice outlives it)
        <Settings key={webhook.updatedAt} webhook={webhook} saved={saved} setSaved={setSaved} />
      ) : tab === 'test' ? (
        <TestFire webhookId={id} />
      ) : tab === 'replay' ? (
        <ReplayPanel webhookId={id} />
      ) : (
        <HealthPanel webhookId={id} />
      )}
    </section>
  )
}

function Settings({
  webhook,
  saved,
  setSaved,
}: {
  webhook: WebhookValues & { id: string; warnings: string[] }
  saved: string | null
  setSaved: (notice: string | null) => void
}) {
  const [updated, update] = useMutation(UpdateWebhook)
  return (
    <WebhookForm
      initial={webhook}
      warnings={webhook.warnings}
      saving={updated.fetching}
      error={updated.error}
      savedNotice={saved}
      onSubmit={async (input) => {
        setSaved(null)
        const r = await update({ input: { ...input, id: webhook.id } as never })
        if (r.data) setSaved(`Saved at ${new Date().toLocaleTimeString()}.`)
        else focusFirstError()
      }}
    />
  )
}
