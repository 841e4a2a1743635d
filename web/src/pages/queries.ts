// The campaign list every page that lists campaigns reads (the Webhooks page a page at a time, the filters
// the first CAMPAIGN_CHOICES), so they share one document and its cache.
import { useQuery } from 'urql'
import { graphql } from '../graphql.ts'

export const CampaignsQuery = graphql(`
  query Campaigns($first: Int, $after: String, $last: Int, $before: String) {
    campaigns(first: $first, after: $after, last: $last, before: $before, includeArchived: true) {
      edges {
        node {
          id
          name
          createdAt
          archivedAt
          webhooks {
            id
            name
            circuitState
          }
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
`)

/** as many as the API lists at once */
export const CAMPAIGN_CHOICES = 200

/** The campaigns a filter offers, newest first, and a hint when there are more than it offers. */
export function useCampaignChoices() {
  const [result] = useQuery({ query: CampaignsQuery, variables: { first: CAMPAIGN_CHOICES } })
  const campaigns = result.data?.campaigns.edges.map((e) => e.node) ?? []
  const hint = result.data?.campaigns.pageInfo.hasNextPage ? `The newest ${CAMPAIGN_CHOICES} campaigns are listed; there are more.` : undefined
  return { campaigns, hint }
}

/** A campaign as a filter names it: archived ones said so. */
export const campaignChoice = (c: { id: string; name: string; archivedAt?: string | null }) => [c.id, c.archivedAt ? `${c.name} (archived)` : c.name] as const

/** A campaign id a filter holds but does not list. */
export const unlistedCampaign = (id: string) => `campaign ${id}`
